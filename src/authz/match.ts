import type { MeshOptions } from './types.ts';

/**
 * A least-recently-used map with a fixed capacity: the module-level memo tables below are keyed by
 * policy values and request paths, so a long-running process (watching a cluster) must not let
 * them grow without limit. `Map` keeps insertion order; a hit is re-inserted to mark it recent.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number) {}
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }
  clear(): void {
    this.map.clear();
  }
}

/** Capacity of each memo table (a few MB at most). */
export const CACHE_CAPACITY = 4096;

/**
 * Istio string forms (authorization-policy reference, "Rule"): exact, prefix `abc*`, suffix `*abc`,
 * presence `*` (non-empty). A `*` elsewhere is literal (pilot/pkg/security/authz/matcher/string.go).
 */
export function matchString(pattern: string, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  let p = pattern;
  let v = value;
  if (ignoreCase) {
    p = p.toLowerCase();
    v = v.toLowerCase();
  }
  if (p === '*') return v.length > 0;
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  return v === p;
}

/** values: OR; notValues: NOT(OR); both set: AND. Unset field = no constraint. */
export function matchField(
  values: readonly string[] | undefined,
  notValues: readonly string[] | undefined,
  test: (pattern: string) => boolean,
): boolean {
  if (values && values.length > 0 && !values.some(test)) return false;
  if (notValues && notValues.length > 0 && notValues.some(test)) return false;
  return true;
}

/**
 * The trust-domain bundle: the mesh trust domain first, then its aliases
 * (pilot/pkg/security/trustdomain/bundle.go NewBundle).
 */
export const trustBundle = (mesh: MeshOptions): string[] => [mesh.trustDomain, ...(mesh.trustDomainAliases ?? [])];

/**
 * Policy principals as istiod rewrites them (bundle.go ReplaceTrustDomainAliases): a principal of
 * five `/`-parts whose trust domain is not `*` and is `cluster.local` (meaning "the local trust
 * domain") or a member of the bundle is expanded to every trust domain of the bundle; one whose
 * trust domain suffix-matches a bundle member (`*-td`) is kept for it. Anything else stays as is.
 */
export function principalPatterns(pattern: string, mesh: MeshOptions): string[] {
  const aliases = mesh.trustDomainAliases ?? [];
  if (mesh.trustDomain === 'cluster.local' && aliases.length === 0) return [pattern];
  const parts = pattern.split('/');
  if (parts.length !== 5 || parts[0] === '*') return [pattern];
  const td = parts[0]!;
  const bundle = trustBundle(mesh);
  // bundle.go stringMatch: exact, or a `*` prefix/suffix on the policy's trust domain.
  const tdMatches = (b: string) =>
    b === td || (td.startsWith('*') && b.endsWith(td.slice(1))) || (td.endsWith('*') && b.startsWith(td.slice(0, -1)));
  if (!(bundle.some(tdMatches) || td === 'cluster.local')) return [pattern];
  const out: string[] = [];
  for (const b of bundle) {
    // replaceTrustDomains: suffixMatch(td, fromPrincipal) keeps the principal as-is.
    const np = td.startsWith('*') && b.endsWith(td.slice(1)) ? pattern : [b, ...parts.slice(1)].join('/');
    if (!out.includes(np)) out.push(np);
  }
  return out;
}

/** `principals`: matched against `spiffe://<principal>` of the mTLS peer; never matches plaintext. */
export function matchPrincipal(pattern: string, principal: string | undefined, mesh: MeshOptions): boolean {
  if (!principal) return false;
  // The common mesh (cluster.local, no aliases) rewrites nothing: one pattern, no list to build.
  if (mesh.trustDomain === 'cluster.local' && !mesh.trustDomainAliases?.length) return matchString(pattern, principal);
  return principalPatterns(pattern, mesh).some((p) => matchString(p, principal));
}

/**
 * `trustDomains` and the `source.trustDomain` condition (generator.go srcTrustDomainGenerator):
 * `*` = any authenticated peer; no `*` = exact; otherwise the value is split at its first `*` into
 * prefix + `[^/]*` + suffix, so one `*` may stand anywhere. Values naming a bundle member match
 * every trust domain of the bundle (model.go MigrateTrustDomain → bundle.go ExpandTrustDomainAliases).
 */
export function matchTrustDomain(pattern: string, principal: string | undefined, mesh: MeshOptions): boolean {
  if (!principal) return false;
  const td = trustDomainOf(principal) ?? '';
  const bundle = trustBundle(mesh);
  const values = bundle.length > 1 && bundle.includes(pattern) ? bundle : [pattern];
  return values.some((v) => {
    if (v === '*') return true;
    const star = v.indexOf('*');
    if (star < 0) return td === v;
    const pre = v.slice(0, star);
    const post = v.slice(star + 1);
    return td.length >= pre.length + post.length && td.startsWith(pre) && td.endsWith(post);
  });
}

const regexCache = new LruCache<string, RegExp>(CACHE_CAPACITY);
function cachedRegex(src: string): RegExp {
  let re = regexCache.get(src);
  if (!re) {
    re = new RegExp(src);
    regexCache.set(src, re);
  }
  return re;
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `namespaces`: regex `.*\/ns/<v, every * → .*>/.*` over the principal (generator.go
 * srcNamespaceGenerator), so it needs mTLS and ignores the trust domain.
 */
const nsRegexCache = new LruCache<string, RegExp>(CACHE_CAPACITY);
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
/** `principal.includes(`/ns/${pattern}/`)` without building the needle (asked per rule and request). */
function containsNsSegment(principal: string, pattern: string): boolean {
  const end = pattern.length + 4;
  for (let i = principal.indexOf('/ns/'); i >= 0; i = principal.indexOf('/ns/', i + 1))
    if (principal.charCodeAt(i + end) === 47 && principal.startsWith(pattern, i + 4)) return true;
  return false;
}

export function matchNamespace(pattern: string, principal: string | undefined): boolean {
  if (!principal) return false;
  // Without `*` and line terminators (which `.` does not match) the regex is a substring test:
  // `spiffe://` + anything + `/ns/<pattern>/` + anything, i.e. `/ns/<pattern>/` within the principal.
  if (!pattern.includes('*') && !LINE_TERMINATOR.test(pattern) && !LINE_TERMINATOR.test(principal))
    return containsNsSegment(principal, pattern);
  let re = nsRegexCache.get(pattern);
  if (!re) {
    const body = pattern.split('*').map(escapeRe).join('.*');
    re = cachedRegex(`^spiffe://.*/ns/${body}/.*$`);
    nsRegexCache.set(pattern, re);
  }
  return re.test(`spiffe://${principal}`);
}

/** `serviceAccounts`: `ns/sa` or `sa` (policy namespace); regex from generator.go, no wildcards. */
/** `scope|pattern` → regex (the policy namespace matters only for patterns without `/`). */
const saRegexCache = new LruCache<string, RegExp>(CACHE_CAPACITY);
export function matchServiceAccount(pattern: string, principal: string | undefined, policyNs: string): boolean {
  if (!principal) return false;
  const key = `${pattern.includes('/') ? '' : policyNs}|${pattern}`;
  let re = saRegexCache.get(key);
  if (!re) {
    const [ns, sa] = pattern.includes('/') ? pattern.split('/', 2) : [policyNs, pattern];
    re = cachedRegex(`^spiffe://.+/ns/${escapeRe(ns ?? '')}/(.+/|)sa/${escapeRe(sa ?? '')}(/.+)?$`);
    saRegexCache.set(key, re);
  }
  return re.test(`spiffe://${principal}`);
}

export function trustDomainOf(principal: string | undefined): string | undefined {
  return principal ? principal.split('/')[0] : undefined;
}

/** ipBlocks: bare IP = /32 (/128) (AddrStrToCidrRange). */
export function matchCidr(block: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const [base, bitsStr] = block.split('/');
  if (base === undefined) return false;
  const v4 = base.includes('.') && ip.includes('.');
  const v6 = base.includes(':') && ip.includes(':');
  if (!v4 && !v6) return false;
  const a = v4 ? ipv4Bits(base) : ipv6Bits(base);
  const b = v4 ? ipv4Bits(ip) : ipv6Bits(ip);
  if (a === undefined || b === undefined) return false;
  const bits = bitsStr === undefined ? a.length : Number(bitsStr);
  return a.slice(0, bits) === b.slice(0, bits);
}

function ipv4Bits(ip: string): string | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return undefined;
  return parts.map((n) => n.toString(2).padStart(8, '0')).join('');
}

function ipv6Bits(ip: string): string | undefined {
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups
    .map((g) =>
      parseInt(g || '0', 16)
        .toString(2)
        .padStart(16, '0'),
    )
    .join('');
}

// Percent-encoded characters BASE decodes once: - . 0-9 A-Z _ a-z ~ (istio.io reference
// config/security/normalization). %2F and %5C are decoded only with DECODE_AND_MERGE_SLASHES.
const UNRESERVED = /^[-.0-9A-Z_a-z~]$/;

/**
 * Path as the authorization filter sees it: query dropped, then the mesh's normalization
 * (BASE = RFC 3986 dot segments + backslash → slash; MERGE_SLASHES adds `//` → `/`).
 */
const normalizedCache = new LruCache<string, string>(CACHE_CAPACITY);
/** Paths every mode leaves as they are: no query, fragment, escape, backslash, dot or empty segment. */
const PLAIN_PATH = /^\/(?:[-0-9A-Z_a-z~]+\/)*[-0-9A-Z_a-z~]*$/;
export function normalizePath(raw: string, mode: MeshOptions['pathNormalization']): string {
  if (PLAIN_PATH.test(raw)) return raw;
  // Pure in (raw, mode): memoized in a bounded LRU.
  const key = `${mode}|${raw}`;
  let out = normalizedCache.get(key);
  if (out === undefined) {
    out = normalizeUncached(raw, mode);
    normalizedCache.set(key, out);
  }
  return out;
}

/** Sizes of the memo tables (tests check they stay bounded). */
export const cacheSizes = () => ({
  regex: regexCache.size,
  namespace: nsRegexCache.size,
  serviceAccount: saRegexCache.size,
  normalized: normalizedCache.size,
});

/** `normalizePath` without the memo and the plain-path shortcut (tests compare the two). */
export function normalizeUncached(raw: string, mode: MeshOptions['pathNormalization']): string {
  let path = raw.split('?')[0] ?? '';
  path = path.split('#')[0] ?? '';
  if (mode === 'NONE') return path;
  path = path.replace(/%([0-9a-fA-F]{2})/g, (m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    if (UNRESERVED.test(ch)) return ch;
    if (mode === 'DECODE_AND_MERGE_SLASHES' && (ch === '/' || ch === '\\')) return ch;
    // Escapes it does not decode are passed on as they came (the normalization reference page lists
    // only decodings; no case change of %hh is done), so `paths: ["/app/%2f"]` still matches.
    return m;
  });
  path = path.replace(/\\/g, '/');
  if (!path.startsWith('/')) path = `/${path}`;
  const out: string[] = [];
  const segs = path.slice(1).split('/');
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else out.push(seg);
  });
  path = `/${out.join('/')}`;
  if (mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/\/{2,}/g, '/');
  return path;
}

/** `paths`: string forms plus templates `{*}` (one segment) and `{**}` (the rest, last only). */
export function matchPath(pattern: string, path: string | undefined): boolean {
  if (path === undefined) return false;
  if (pattern.includes('{*}') || pattern.includes('{**}')) {
    const src = pattern
      .split('/')
      .map((seg) => (seg === '{*}' ? '[^/]+' : seg === '{**}' ? '.*' : escapeRe(seg)))
      .join('/');
    return cachedRegex(`^${src}$`).test(path);
  }
  return matchString(pattern, path);
}
