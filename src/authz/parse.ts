import { InputError, InputErrors, UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { parseYamlDocs, positionOf, type Position } from '../util/yaml-source.ts';
import type {
  Action,
  AuthzPolicy,
  AuthzRequest,
  ClientTlsMode,
  DestRule,
  JwtRule,
  MeshOptions,
  MtlsMode,
  PeerAuthn,
  PolicyTargetRef,
  RequestAuthn,
  Rule,
  SecurityConfig,
} from './types.ts';
import { DEFAULT_MESH } from './types.ts';

const SECURITY_VERSIONS = new Set(['security.istio.io/v1', 'security.istio.io/v1beta1']);
const NETWORKING_GROUP = 'networking.istio.io/';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ACTIONS: readonly Action[] = ['ALLOW', 'DENY', 'CUSTOM', 'AUDIT'];
const MODES: readonly MtlsMode[] = ['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'];

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';

function matchLabels(sel: unknown): Record<string, string> | undefined {
  if (!isObj(sel)) return undefined;
  const ml = sel.matchLabels;
  return isObj(ml) ? (ml as Record<string, string>) : {};
}

/**
 * `targetRef` / `targetRefs` (policyattachment.go GetTargetRefs: targetRefs wins, else the single
 * targetRef); an empty group means core, the namespace defaults to the policy's.
 */
function targetRefsOf(spec: Record<string, unknown>, policyNs: string): PolicyTargetRef[] | undefined {
  const refs =
    Array.isArray(spec.targetRefs) && spec.targetRefs.length > 0 ? spec.targetRefs : isObj(spec.targetRef) ? [spec.targetRef] : undefined;
  return refs?.filter(isObj).map((r) => ({
    group: typeof r.group === 'string' ? r.group : '',
    kind: typeof r.kind === 'string' ? r.kind : '',
    name: typeof r.name === 'string' ? r.name : '',
    namespace: typeof r.namespace === 'string' && r.namespace !== '' ? r.namespace : policyNs,
  }));
}

/** AuthorizationPolicy, PeerAuthentication, RequestAuthentication and DestinationRule objects → simulator config. */
export function securityConfigFrom(objects: readonly KubeObject[]): SecurityConfig {
  const config: SecurityConfig = { policies: [], peerAuthns: [], destRules: [], requestAuthns: [] };
  const errors: string[] = [];
  objects.forEach((o, order) => {
    const spec = isObj(o.spec) ? o.spec : {};
    const where = `${o.kind} ${ns(o)}/${o.metadata.name}`;
    if (o.kind === 'AuthorizationPolicy' && SECURITY_VERSIONS.has(o.apiVersion)) {
      const action = (spec.action ?? 'ALLOW') as Action;
      if (!ACTIONS.includes(action)) {
        errors.push(`${where}: unknown action ${JSON.stringify(spec.action)} (istiod ignores the policy)`);
        return;
      }
      if (spec.rules !== undefined && !Array.isArray(spec.rules)) {
        errors.push(`${where}: spec.rules must be a list`);
        return;
      }
      const provider = isObj(spec.provider) && typeof spec.provider.name === 'string' ? spec.provider.name : undefined;
      config.policies.push({
        namespace: ns(o),
        name: o.metadata.name,
        action,
        selector: matchLabels(spec.selector),
        targetRef: spec.targetRef !== undefined || spec.targetRefs !== undefined,
        targetRefs: targetRefsOf(spec, ns(o)),
        rules: spec.rules as Array<Rule | null> | undefined,
        provider,
        // builder.go isDryRun: strconv.ParseBool of the annotation; a value it rejects is an error, not dry-run.
        dryRun: ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(o.metadata.annotations?.['istio.io/dry-run'] ?? ''),
      } satisfies AuthzPolicy);
    } else if (o.kind === 'PeerAuthentication' && SECURITY_VERSIONS.has(o.apiVersion)) {
      const mode = (isObj(spec.mtls) ? (spec.mtls.mode ?? 'UNSET') : 'UNSET') as MtlsMode;
      if (!MODES.includes(mode)) {
        errors.push(`${where}: unknown mtls.mode ${JSON.stringify(mode)}`);
        return;
      }
      const portLevel: Record<string, MtlsMode> = {};
      if (isObj(spec.portLevelMtls))
        for (const [port, v] of Object.entries(spec.portLevelMtls))
          portLevel[port] = ((isObj(v) ? v.mode : undefined) ?? 'UNSET') as MtlsMode;
      config.peerAuthns.push({
        namespace: ns(o),
        name: o.metadata.name,
        selector: matchLabels(spec.selector),
        mode,
        portLevel,
        created: typeof o.metadata.creationTimestamp === 'string' ? o.metadata.creationTimestamp : undefined,
        order,
      } satisfies PeerAuthn);
    } else if (o.kind === 'RequestAuthentication' && SECURITY_VERSIONS.has(o.apiVersion)) {
      const jwtRules: JwtRule[] = [];
      for (const r of Array.isArray(spec.jwtRules) ? spec.jwtRules : []) {
        if (!isObj(r) || typeof r.issuer !== 'string') continue;
        const strs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
        jwtRules.push({
          issuer: r.issuer,
          audiences: strs(r.audiences),
          spaceDelimitedClaims: strs(r.spaceDelimitedClaims),
          fromHeaders: Array.isArray(r.fromHeaders)
            ? r.fromHeaders.filter(isObj).map((h) => ({
                name: typeof h.name === 'string' ? h.name : '',
                prefix: typeof h.prefix === 'string' ? h.prefix : undefined,
              }))
            : undefined,
          fromParams: strs(r.fromParams),
          outputPayloadToHeader: typeof r.outputPayloadToHeader === 'string' ? r.outputPayloadToHeader : undefined,
          outputClaimToHeaders: Array.isArray(r.outputClaimToHeaders)
            ? r.outputClaimToHeaders
                .filter(isObj)
                .filter((h) => typeof h.header === 'string' && typeof h.claim === 'string')
                .map((h) => ({ header: h.header as string, claim: h.claim as string }))
            : undefined,
          forwardOriginalToken: r.forwardOriginalToken === true ? true : undefined,
        });
      }
      config.requestAuthns!.push({
        namespace: ns(o),
        name: o.metadata.name,
        selector: matchLabels(spec.selector),
        targetRef: spec.targetRef !== undefined || spec.targetRefs !== undefined,
        targetRefs: targetRefsOf(spec, ns(o)),
        jwtRules,
      } satisfies RequestAuthn);
    } else if (o.kind === 'DestinationRule' && o.apiVersion.startsWith(NETWORKING_GROUP)) {
      const tp = isObj(spec.trafficPolicy) ? spec.trafficPolicy : {};
      const portTls: Record<string, ClientTlsMode> = {};
      for (const ps of Array.isArray(tp.portLevelSettings) ? tp.portLevelSettings : []) {
        if (isObj(ps) && isObj(ps.port) && isObj(ps.tls) && typeof ps.tls.mode === 'string')
          portTls[String(ps.port.number)] = ps.tls.mode as ClientTlsMode;
      }
      config.destRules.push({
        namespace: ns(o),
        name: o.metadata.name,
        host: typeof spec.host === 'string' ? spec.host : '',
        exportTo: Array.isArray(spec.exportTo) ? (spec.exportTo as string[]).map((e) => (e === '.' ? ns(o) : e)) : undefined,
        tls: isObj(tp.tls) && typeof tp.tls.mode === 'string' ? (tp.tls.mode as ClientTlsMode) : undefined,
        portTls,
      } satisfies DestRule);
    }
  });
  if (errors.length) throw new InputErrors(errors);
  return config;
}

const NORMALIZATIONS: ReadonlyArray<MeshOptions['pathNormalization']> = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];

/**
 * A MeshConfig object (istio/api mesh/v1alpha1/config.proto) → the simulator's mesh options over
 * `base`. Reads rootNamespace, trustDomain, trustDomainAliases, enableAutoMtls,
 * pathNormalization.normalization (DEFAULT = BASE), extensionProviders (envoyExtAuthzGrpc can
 * authorize TCP, envoyExtAuthzHttp only HTTP) and defaultConfig.gatewayTopology.numTrustedProxies.
 */
export function meshOptionsFromMeshConfig(
  mc: Record<string, unknown>,
  base: MeshOptions = DEFAULT_MESH,
  where = 'meshConfig',
): MeshOptions {
  const out: MeshOptions = { ...base };
  const errors: string[] = [];
  if (typeof mc.rootNamespace === 'string') out.rootNamespace = mc.rootNamespace;
  if (typeof mc.trustDomain === 'string' && mc.trustDomain !== '') out.trustDomain = mc.trustDomain;
  if (Array.isArray(mc.trustDomainAliases)) out.trustDomainAliases = mc.trustDomainAliases.map(String);
  if (typeof mc.enableAutoMtls === 'boolean') out.autoMtls = mc.enableAutoMtls;
  if (isObj(mc.pathNormalization)) {
    const n = mc.pathNormalization.normalization ?? 'DEFAULT';
    // config.proto ProxyPathNormalization: DEFAULT "currently BASE".
    const mode = n === 'DEFAULT' ? 'BASE' : (n as MeshOptions['pathNormalization']);
    if (NORMALIZATIONS.includes(mode)) out.pathNormalization = mode;
    else
      errors.push(
        `${where}.pathNormalization.normalization: unknown value ${JSON.stringify(n)} (${['DEFAULT', ...NORMALIZATIONS].join(', ')})`,
      );
  }
  if (Array.isArray(mc.extensionProviders)) {
    const providers: Record<string, { tcp: boolean }> = {};
    for (const p of mc.extensionProviders) {
      if (!isObj(p) || typeof p.name !== 'string') continue;
      if (isObj(p.envoyExtAuthzGrpc)) providers[p.name] = { tcp: true };
      else if (isObj(p.envoyExtAuthzHttp)) providers[p.name] = { tcp: false };
      // Other provider kinds (tracing, logging) cannot serve CUSTOM: getExtAuthz finds no ext-authz entry.
    }
    out.extensionProviders = providers;
  } else out.extensionProviders = out.extensionProviders ?? {};
  const dc = isObj(mc.defaultConfig) ? mc.defaultConfig : {};
  const gt = isObj(dc.gatewayTopology) ? dc.gatewayTopology : {};
  if (gt.numTrustedProxies !== undefined) {
    if (Number.isInteger(gt.numTrustedProxies) && (gt.numTrustedProxies as number) >= 0)
      out.numTrustedProxies = gt.numTrustedProxies as number;
    else errors.push(`${where}.defaultConfig.gatewayTopology.numTrustedProxies must be a non-negative integer`);
  }
  if (errors.length) throw new InputErrors(errors);
  return out;
}

/**
 * The MeshConfig among manifests: the `istio` ConfigMap (`data.mesh`, YAML; istiod reads it from
 * its namespace), a sail-operator `Istio` CR (`spec.values.meshConfig`), or an OSSM 2
 * ServiceMeshControlPlane (`spec.meshConfig` / `spec.techPreview.meshConfig`, plus `spec.security.trust.domain` /
 * `additionalDomains` — Maistra's mapping to trustDomain / trustDomainAliases).
 */
export function meshConfigFromObjects(objects: readonly KubeObject[]): Record<string, unknown> | undefined {
  for (const o of objects) {
    if (o.kind === 'ConfigMap' && o.metadata?.name?.startsWith('istio') && isObj(o.data) && typeof o.data.mesh === 'string') {
      const { docs } = parseYamlDocs(`ConfigMap ${o.metadata.name}`, o.data.mesh);
      const v = docs[0]?.value;
      if (isObj(v)) return v;
    }
  }
  for (const o of objects) {
    const spec = isObj(o.spec) ? o.spec : undefined;
    if (!spec) continue;
    if (o.kind === 'Istio' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('sailoperator.io/')) {
      const values = isObj(spec.values) ? spec.values : {};
      if (isObj(values.meshConfig)) return values.meshConfig;
    }
    if (o.kind === 'ServiceMeshControlPlane') {
      // SMCP v2.3+ `spec.meshConfig` (extensionProviders), older `spec.techPreview.meshConfig`.
      const mc: Record<string, unknown> = {
        ...(isObj(spec.techPreview) && isObj(spec.techPreview.meshConfig) ? spec.techPreview.meshConfig : {}),
        ...(isObj(spec.meshConfig) ? spec.meshConfig : {}),
      };
      const trust = isObj(spec.security) && isObj(spec.security.trust) ? spec.security.trust : {};
      if (typeof trust.domain === 'string' && mc.trustDomain === undefined) mc.trustDomain = trust.domain;
      if (Array.isArray(trust.additionalDomains) && mc.trustDomainAliases === undefined) mc.trustDomainAliases = trust.additionalDomains;
      if (Object.keys(mc).length) return mc;
    }
  }
  return undefined;
}

// Every field AuthzRequest declares; anything else in `--request` is a typo and an error.
const REQUEST_FIELDS = new Set([
  'source',
  'destination',
  'method',
  'path',
  'host',
  'headers',
  'remoteIp',
  'requestPrincipal',
  'jwtClaims',
  'jwt',
  'transport',
  'sni',
]);
const SOURCE_FIELDS = new Set(['namespace', 'serviceAccount', 'principal', 'sidecar', 'ip']);
const DEST_FIELDS = new Set([
  'namespace',
  'labels',
  'port',
  'protocol',
  'sidecar',
  'excludedPorts',
  'tlsModeLabel',
  'gatewayListener',
  'ip',
  'service',
  'serviceNamespace',
  'servicePort',
]);
const LISTENERS = ['ISTIO_MUTUAL', 'SIMPLE', 'PLAINTEXT'];

function unknownFields(o: Record<string, unknown>, known: ReadonlySet<string>, where: string): string[] {
  return Object.keys(o)
    .filter((k) => !known.has(k))
    .map((k) => `--request: unknown field ${where}${JSON.stringify(k)} (known: ${[...known].join(', ')})`);
}

const optString = (o: Record<string, unknown>, k: string, where: string, errs: string[]): string | undefined => {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') errs.push(`--request: ${where}${k} must be a string`);
  return typeof v === 'string' ? v : undefined;
};

/**
 * Parses and checks the `--request` JSON of `serverless-mesh authz`. Throws InputError / InputErrors
 * only, every line `--request:LINE:COL: message` (test/properties: fast-check over this function).
 */
export function parseRequest(json: string): AuthzRequest {
  if (json.length > 1_048_576) throw new InputError(`--request:1:1: larger than 1 MiB`);
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    const pos = jsonErrorPosition(json, (e as Error).message);
    const what = /^Unexpected end/.test((e as Error).message) ? 'unexpected end of input' : `unexpected ${JSON.stringify(json[pos] ?? '')}`;
    throw new InputError(`--request:${lineCol(json, pos)}: invalid JSON: ${what}`);
  }
  const extra = rangeErrors(v);
  let errors: string[] = [];
  let out: AuthzRequest | undefined;
  try {
    out = parseRequestFields(json);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    errors = e.message.split('\n');
  }
  errors.push(...extra);
  if (!errors.length && out) return out;
  const { docs } = parseYamlDocs('--request', json); // JSON is YAML 1.2: positions of fields
  throw new InputErrors(
    [...new Set(errors)].map((line) => positioned(line, docs[0] ? (p, key) => positionOf(docs[0]!, p, key) : undefined)),
  );
}

/** Ports in range and string maps of strings: checks parseRequestFields does not make. */
function rangeErrors(v: unknown): string[] {
  const out: string[] = [];
  if (!isObj(v)) return out;
  const dst = isObj(v.destination) ? v.destination : {};
  const port = (x: unknown) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 65535;
  for (const k of ['port', 'servicePort'])
    if (Number.isInteger(dst[k]) && !port(dst[k])) out.push(`--request: destination.${k} must be a port number from 1 to 65535`);
  if (dst.excludedPorts !== undefined && !(Array.isArray(dst.excludedPorts) && dst.excludedPorts.every(port)))
    out.push('--request: destination.excludedPorts must be a list of port numbers (1 to 65535)');
  if (dst.labels !== undefined && !(isObj(dst.labels) && Object.values(dst.labels).every((x) => typeof x === 'string')))
    out.push('--request: destination.labels must be an object of strings');
  if (v.headers !== undefined && !(isObj(v.headers) && Object.values(v.headers).every((x) => typeof x === 'string')))
    out.push('--request: headers must be an object of strings');
  for (const [o, where] of [
    [isObj(v.source) ? v.source : {}, 'source'],
    [dst, 'destination'],
  ] as const) {
    if (o.sidecar !== undefined && typeof o.sidecar !== 'boolean') out.push(`--request: ${where}.sidecar must be true or false`);
  }
  if (v.source !== undefined && !isObj(v.source)) out.push('--request: source must be an object');
  if (v.destination !== undefined && !isObj(v.destination)) out.push('--request: destination must be an object');
  return out;
}

/** `--request: destination.port must…` → `--request:L:C: destination.port must…`, at that field. */
function positioned(line: string, at: ((path: string[], key: boolean) => Position | undefined) | undefined): string {
  const body = line.replace(/^--request:\s*/, '');
  const unknown = /^unknown field (?:(source|destination)\.)?("(?:[^"\\]|\\.)*")/.exec(body);
  let path: string[] = [];
  if (unknown) path = [...(unknown[1] ? [unknown[1]] : []), JSON.parse(unknown[2] as string) as string];
  else {
    const m = /^((?:source|destination)(?:\.[A-Za-z]+)?|[A-Za-z]+)\b/.exec(body);
    if (m && m[1] !== 'expected') path = (m[1] as string).split('.');
  }
  const pos = at?.(path, !!unknown) ?? { line: 1, col: 1 };
  return `--request:${pos.line}:${pos.col}: ${body}`;
}

function jsonErrorPosition(text: string, message: string): number {
  const at = /at position (\d+)/.exec(message);
  if (at) return Number(at[1]);
  if (/^Unexpected end/.test(message)) return text.length;
  const tok = /^Unexpected (?:token|non-whitespace character) '(.)'/.exec(message);
  if (tok) {
    // V8 names the character, not where: take its first occurrence outside strings.
    let inStr = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === '"') inStr = false;
      } else if (c === tok[1]) return i;
      else if (c === '"') inStr = true;
    }
  }
  return 0;
}

function lineCol(text: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < Math.min(offset, text.length); i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  return `${line}:${offset - last}`;
}

function parseRequestFields(json: string): AuthzRequest {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new UserError(`--request: invalid JSON: ${(e as Error).message}`, 2);
  }
  const errs: string[] = [];
  if (!isObj(v)) throw new UserError('--request: expected a JSON object', 2);
  const src = isObj(v.source) ? v.source : {};
  const dst = isObj(v.destination) ? v.destination : undefined;
  const unknown = [
    ...unknownFields(v, REQUEST_FIELDS, ''),
    ...unknownFields(src, SOURCE_FIELDS, 'source.'),
    ...(dst ? unknownFields(dst, DEST_FIELDS, 'destination.') : []),
  ];
  // One line (exit 2): the first unknown field, and how many more there are.
  if (unknown.length)
    throw new UserError(`${unknown[0]}${unknown.length > 1 ? ` (and ${unknown.length - 1} more unknown fields)` : ''}`, 2);
  if (!dst) errs.push('--request: destination is required');
  if (!src.principal && !(src.namespace && src.serviceAccount) && src.sidecar !== false)
    errs.push('--request: source needs "principal" or "namespace" and "serviceAccount" (or "sidecar": false)');
  if (dst) {
    if (typeof dst.namespace !== 'string') errs.push('--request: destination.namespace is required');
    if (!Number.isInteger(dst.port)) errs.push('--request: destination.port must be an integer (the workload port)');
    if (dst.servicePort !== undefined && !Number.isInteger(dst.servicePort))
      errs.push('--request: destination.servicePort must be an integer');
    if (dst.protocol !== undefined && (typeof dst.protocol !== 'string' || !['http', 'http2', 'grpc', 'tcp'].includes(dst.protocol)))
      errs.push('--request: destination.protocol must be http, http2, grpc or tcp');
    if (dst.gatewayListener !== undefined && (typeof dst.gatewayListener !== 'string' || !LISTENERS.includes(dst.gatewayListener)))
      errs.push(`--request: destination.gatewayListener must be one of ${LISTENERS.join(', ')}`);
    if (dst.tlsModeLabel !== undefined && typeof dst.tlsModeLabel !== 'boolean')
      errs.push('--request: destination.tlsModeLabel must be true or false');
  }
  if (v.jwtClaims !== undefined && !isObj(v.jwtClaims)) errs.push('--request: jwtClaims must be an object');
  if (v.transport !== undefined && v.transport !== 'mtls' && v.transport !== 'plaintext')
    errs.push('--request: transport must be "mtls" or "plaintext"');
  const d = dst ?? {};
  const out: AuthzRequest = {
    source: {
      namespace: optString(src, 'namespace', 'source.', errs),
      serviceAccount: optString(src, 'serviceAccount', 'source.', errs),
      principal: optString(src, 'principal', 'source.', errs),
      sidecar: src.sidecar !== false,
      ip: optString(src, 'ip', 'source.', errs),
    },
    destination: {
      namespace: d.namespace as string,
      labels: (isObj(d.labels) ? d.labels : {}) as Record<string, string>,
      port: d.port as number,
      protocol: d.protocol === 'tcp' ? 'tcp' : 'http',
      sidecar: d.sidecar !== false,
      excludedPorts: Array.isArray(d.excludedPorts) ? (d.excludedPorts as number[]) : undefined,
      tlsModeLabel: d.tlsModeLabel as boolean | undefined,
      gatewayListener: d.gatewayListener as AuthzRequest['destination']['gatewayListener'],
      ip: optString(d, 'ip', 'destination.', errs),
      service: optString(d, 'service', 'destination.', errs),
      serviceNamespace: optString(d, 'serviceNamespace', 'destination.', errs),
      servicePort: d.servicePort as number | undefined,
    },
    method: optString(v, 'method', '', errs),
    path: optString(v, 'path', '', errs),
    host: optString(v, 'host', '', errs),
    headers: (isObj(v.headers) ? v.headers : {}) as Record<string, string>,
    remoteIp: optString(v, 'remoteIp', '', errs),
    requestPrincipal: optString(v, 'requestPrincipal', '', errs),
    jwtClaims: isObj(v.jwtClaims) ? v.jwtClaims : undefined,
    jwt: optString(v, 'jwt', '', errs),
    transport: v.transport === 'mtls' || v.transport === 'plaintext' ? v.transport : undefined,
    sni: optString(v, 'sni', '', errs),
  };
  if (errs.length) throw new InputErrors(errs);
  // Drop undefined keys so callers comparing requests see only what was given.
  for (const o of [out, out.source, out.destination] as Array<Record<string, unknown>>)
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return out;
}
