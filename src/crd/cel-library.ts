/**
 * The CEL environment the apiserver gives CRD validation rules, as far as the shared CRDs need it:
 * the CEL standard library (in @bufbuild/cel), the cel-go strings extension and the Kubernetes URL
 * library (`url()`, `isURL()`, `URL.getScheme()` …; k8s.io/apiserver/pkg/cel/library/urls.go,
 * https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-url-library).
 * Other Kubernetes libraries (quantity, ip/cidr, format, semver, lists, regex `find`) are not used by
 * any rule in ../shared/crds; the rule enumeration test fails if a CRD starts using one.
 */
import { celEnv, celFunc, celMap, celMethod, CelScalar, isCelMap, listType, mapType, type CelEnv, type CelMap } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

const { BOOL, DYN, STRING } = CelScalar;

/** Parts of a URL as Go's `url.ParseRequestURI` splits them. */
interface ParsedUrl {
  scheme: string;
  host: string;
  path: string;
  rawQuery: string;
}

/**
 * Go `url.ParseRequestURI` (what the Kubernetes URL library uses): an absolute URI or an absolute
 * path; no fragment handling; the scheme is lower-cased; a port must be numeric.
 */
export function parseRequestUri(s: string): ParsedUrl {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error(`parse "${s}": net/url: invalid control character in URL`);
  let rest = s;
  let scheme = '';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = s.slice(m[0].length);
  } else if (!s.startsWith('/')) {
    throw new Error(`parse "${s}": invalid URI for request`);
  }
  const q = rest.indexOf('?');
  const rawQuery = q >= 0 ? rest.slice(q + 1) : '';
  rest = q >= 0 ? rest.slice(0, q) : rest;
  let host = '';
  if (rest.startsWith('//') && scheme !== '') {
    const slash = rest.indexOf('/', 2);
    const authority = slash >= 0 ? rest.slice(2, slash) : rest.slice(2);
    rest = slash >= 0 ? rest.slice(slash) : '';
    host = authority.slice(authority.lastIndexOf('@') + 1);
    checkHost(s, host);
  }
  checkEscapes(s, rest);
  return { scheme, host, path: rest, rawQuery };
}

function checkHost(s: string, host: string): void {
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(host)?.[1];
  if (port !== undefined && !/^[0-9]*$/.test(port)) throw new Error(`parse "${s}": invalid port ":${port}" after host`);
  if (/[ <>"{}|\\^`]/.test(host)) throw new Error(`parse "${s}": invalid character in host name`);
}

function checkEscapes(s: string, part: string): void {
  if (/%(?![0-9a-fA-F]{2})/.test(part)) throw new Error(`parse "${s}": invalid URL escape`);
}

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

function port(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', end);
  return colon >= 0 ? host.slice(colon + 1) : '';
}

/** Go `url.ParseQuery`: `+` is a space, repeated keys collect their values in order. */
function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [k, v] = eq >= 0 ? [pair.slice(0, eq), pair.slice(eq + 1)] : [pair, ''];
    const decode = (x: string) => decodeURIComponent(x.replace(/\+/g, ' '));
    const key = decode(k);
    out.set(key, [...(out.get(key) ?? []), decode(v)]);
  }
  return out;
}

/*
 * @bufbuild/cel has no opaque custom types, so a `kubernetes.URL` value is a CEL map with one
 * entry (the URL text, so that `==` compares URLs) that this module remembers having made.
 */
const URL_KEY = 'kubernetes.URL';
const urlValues = new WeakMap<CelMap, ParsedUrl>();

function makeUrl(s: string): CelMap {
  const parsed = parseRequestUri(s);
  const value = celMap(new Map([[URL_KEY, s]]));
  urlValues.set(value, parsed);
  return value;
}

function asUrl(target: unknown, method: string): ParsedUrl {
  const parsed = isCelMap(target) ? urlValues.get(target) : undefined;
  if (!parsed) throw new Error(`no such overload: ${method}`);
  return parsed;
}

function urlMethod(name: string, get: (u: ParsedUrl) => string) {
  return celMethod(name, DYN, [], STRING, function (this: unknown) {
    return get(asUrl(this, name));
  });
}

export const urlLibrary = [
  celFunc('url', [STRING], DYN, makeUrl),
  celFunc('isURL', [STRING], BOOL, (s: string) => {
    try {
      parseRequestUri(s);
      return true;
    } catch {
      return false;
    }
  }),
  urlMethod('getScheme', (u) => u.scheme),
  urlMethod('getHost', (u) => u.host),
  urlMethod('getHostname', (u) => hostname(u.host)),
  urlMethod('getPort', (u) => port(u.host)),
  urlMethod('getEscapedPath', (u) => u.path),
  celMethod('getQuery', DYN, [], mapType(STRING, listType(STRING)), function (this: unknown) {
    return parseQuery(asUrl(this, 'getQuery').rawQuery);
  }),
];

/** The environment every CRD rule is planned in. */
export const kubernetesCelEnv: CelEnv = celEnv({ funcs: [...strings, ...urlLibrary] });

/** Operators the @bufbuild/cel planner implements itself, not through the function resolver. */
const PLANNER_OPERATORS = new Set(['_[_]', '_?_:_', '_&&_', '_||_', '@not_strictly_false', '__not_strictly_false__']);

/** Whether a call to `name` can resolve at run time (the library reports unknown names only then). */
export function isKnownFunction(name: string): boolean {
  return PLANNER_OPERATORS.has(name) || kubernetesCelEnv.funcs.find(name) !== undefined;
}
