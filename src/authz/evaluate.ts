import {
  matchCidr,
  matchField,
  matchNamespace,
  matchPath,
  matchPrincipal,
  matchServiceAccount,
  matchString,
  matchTrustDomain,
  normalizePath,
} from './match.ts';
import { authenticateJwt, remoteIpOf } from './request.ts';
import type {
  AuthzPolicy,
  AuthzRequest,
  AuthzResult,
  Condition,
  MeshOptions,
  MtlsMode,
  Operation,
  PeerAuthn,
  Protocol,
  Rule,
  SecurityConfig,
  ShadowVerdict,
  Source,
} from './types.ts';

/** Request attributes as the destination proxy sees them (after TLS; principal only with mTLS). */
export interface EvalContext {
  principal?: string;
  requestPrincipal?: string;
  jwtClaims?: Record<string, unknown>;
  sourceIp?: string;
  remoteIp?: string;
  destIp?: string;
  port: number;
  protocol: Protocol;
  method?: string;
  /** Already normalized. */
  path?: string;
  host?: string;
  /** Lower-cased names (Istio compares header names case-insensitively). */
  headers: Record<string, string>;
  sni?: string;
}

const ref = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

const isEmptySelector = (s: Record<string, string> | undefined) => !s || Object.keys(s).length === 0;
const selects = (s: Record<string, string> | undefined, labels: Record<string, string>) => {
  if (!s) return true;
  // Every selector label present with the same value (no entry pairs built: called per policy and workload).
  for (const k of Object.keys(s)) if (labels[k] !== s[k]) return false;
  return true;
};

/** Pod label naming the Gateway API Gateway a deployment serves (label.IoK8sNetworkingGatewayGatewayName). */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/**
 * pilot/pkg/model/policyattachment.go ShouldAttachPolicy for sidecars and gateways (waypoints are
 * not modelled): a workload that is not a Gateway API gateway takes selector policies and ignores
 * every targetRef policy; a Gateway API gateway (pod label gateway.networking.k8s.io/gateway-name)
 * takes policies whose targetRef(s) name its Gateway (group gateway.networking.k8s.io, kind
 * Gateway) in its own namespace, and selector policies without targetRefs
 * (features.EnableSelectorBasedK8sGatewayPolicy, default true). Service / ServiceEntry /
 * GatewayClass refs attach to waypoints only, so never here.
 */
export function attaches(
  p: {
    namespace: string;
    selector?: Record<string, string>;
    targetRef: boolean;
    targetRefs?: readonly { group: string; kind: string; name: string; namespace: string }[];
  },
  namespace: string,
  labels: Record<string, string>,
): boolean {
  const gateway = labels[GATEWAY_NAME_LABEL];
  if (gateway === undefined) return !p.targetRef && selects(p.selector, labels);
  if (!p.targetRef) return selects(p.selector, labels);
  if (p.namespace !== namespace) return false;
  return (p.targetRefs ?? []).some(
    (r) => r.group === 'gateway.networking.k8s.io' && r.kind === 'Gateway' && r.name === gateway && r.namespace === namespace,
  );
}

/**
 * Policies enforced at a sidecar / gateway: root namespace (no selector = mesh-wide, selector =
 * matching workloads in every namespace) plus the workload's own namespace; attachment by selector
 * or targetRef as in `attaches`; dry-run ones go to shadow rules (pilot/pkg/model/authorization.go,
 * policyattachment.go ShouldAttachPolicy; builder.go isDryRun).
 */
export function policiesFor(
  policies: readonly AuthzPolicy[],
  namespace: string,
  labels: Record<string, string>,
  mesh: MeshOptions,
): AuthzPolicy[] {
  return policies.filter(
    (p) => (p.namespace === mesh.rootNamespace || p.namespace === namespace) && !p.dryRun && attaches(p, namespace, labels),
  );
}

// Keys accepted by model.New (pilot/pkg/security/authz/model/model.go); anything else = rule skipped.
const HTTP_ONLY_KEY =
  /^(request\.headers\[.+\]|request\.experimental\.inline\.headers\[.+\]|request\.auth\.(principal|audiences|presenter|claims(\[[^\]]+\])+))$/;
// source.trustDomain: model.go attrSrcTrustDomain (principal side, HTTP and TCP).
const TCP_KEY =
  /^(source\.ip|remote\.ip|source\.namespace|source\.principal|source\.serviceAccount|source\.trustDomain|destination\.ip|destination\.port|connection\.sni|experimental\.envoy\.filters\..+)$/;
const knownKeys = new Map<string, boolean>();
/** Memoized per key (asked per rule and request; policies repeat a handful of keys). */
const knownKey = (k: string) => {
  let known = knownKeys.get(k);
  if (known === undefined) {
    known = HTTP_ONLY_KEY.test(k) || TCP_KEY.test(k);
    if (knownKeys.size < 10_000) knownKeys.set(k, known);
  }
  return known;
};

const SOURCE_HTTP_ONLY: Array<keyof Source> = ['requestPrincipals', 'notRequestPrincipals'];
const OP_HTTP_ONLY: Array<keyof Operation> = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

const hasAny = (o: object | undefined, keys: readonly string[]) =>
  !!o &&
  keys.some((k) => {
    const v = (o as Record<string, unknown>)[k];
    return Array.isArray(v) && v.length > 0;
  });

function ruleUsesHttp(rule: Rule): boolean {
  return (
    (rule.from ?? []).some((f) => hasAny(f.source, SOURCE_HTTP_ONLY)) ||
    (rule.to ?? []).some((t) => hasAny(t.operation, OP_HTTP_ONLY)) ||
    (rule.when ?? []).some((c) => HTTP_ONLY_KEY.test(c.key))
  );
}

function withoutKeys<T extends object>(o: T | undefined, keys: readonly string[]): T | undefined {
  if (!o) return o;
  const copy = { ...o } as Record<string, unknown>;
  for (const k of keys) delete copy[k];
  return copy as T;
}

/**
 * On a TCP filter chain an ALLOW rule using an HTTP-only field is dropped entirely, while DENY /
 * AUDIT / CUSTOM keep the rule and drop only the HTTP-only values, which widens them
 * (authz/model/model.go checkError; builder testdata action-{allow,deny}-HTTP-for-TCP-filter).
 * Returns null when the rule does not exist on this chain.
 */
export function ruleForChain(rule: Rule, action: AuthzPolicy['action'], protocol: Protocol): Rule | null {
  if (rule.when && rule.when.length > 0 && rule.when.some((c) => !knownKey(c.key))) return null;
  if (protocol === 'http' || !ruleUsesHttp(rule)) return rule;
  if (action === 'ALLOW') return null;
  return {
    from: rule.from?.map((f) => ({ source: withoutKeys(f.source, SOURCE_HTTP_ONLY) })),
    to: rule.to?.map((t) => ({ operation: withoutKeys(t.operation, OP_HTTP_ONLY) })),
    when: rule.when?.filter((c) => !HTTP_ONLY_KEY.test(c.key)),
  };
}

/** Neither list set: `matchField` holds without a test (checked first: no closure per unset field). */
const unset = (values: readonly string[] | undefined, notValues: readonly string[] | undefined) =>
  (values === undefined || values.length === 0) && (notValues === undefined || notValues.length === 0);

export function sourceMatches(s: Source | undefined, ctx: EvalContext, policyNs: string, mesh: MeshOptions): boolean {
  if (!s) return true;
  const p = ctx.principal;
  return (
    (unset(s.principals, s.notPrincipals) || matchField(s.principals, s.notPrincipals, (v) => matchPrincipal(v, p, mesh))) &&
    (unset(s.namespaces, s.notNamespaces) || matchField(s.namespaces, s.notNamespaces, (v) => matchNamespace(v, p))) &&
    (unset(s.serviceAccounts, s.notServiceAccounts) ||
      matchField(s.serviceAccounts, s.notServiceAccounts, (v) => matchServiceAccount(v, p, policyNs))) &&
    (unset(s.trustDomains, s.notTrustDomains) || matchField(s.trustDomains, s.notTrustDomains, (v) => matchTrustDomain(v, p, mesh))) &&
    (unset(s.requestPrincipals, s.notRequestPrincipals) ||
      matchField(s.requestPrincipals, s.notRequestPrincipals, (v) => matchString(v, ctx.requestPrincipal))) &&
    (unset(s.ipBlocks, s.notIpBlocks) || matchField(s.ipBlocks, s.notIpBlocks, (v) => matchCidr(v, ctx.sourceIp))) &&
    (unset(s.remoteIpBlocks, s.notRemoteIpBlocks) ||
      matchField(s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => matchCidr(v, ctx.remoteIp ?? ctx.sourceIp)))
  );
}

export function operationMatches(o: Operation | undefined, ctx: EvalContext): boolean {
  if (!o) return true;
  return (
    // hosts: case-insensitive against :authority (matcher HostMatcher ignoreCase=true)
    (unset(o.hosts, o.notHosts) || matchField(o.hosts, o.notHosts, (v) => matchString(v, ctx.host, true))) &&
    (unset(o.ports, o.notPorts) || matchField(o.ports, o.notPorts, (v) => v === String(ctx.port))) &&
    (unset(o.methods, o.notMethods) || matchField(o.methods, o.notMethods, (v) => matchString(v, ctx.method))) &&
    (unset(o.paths, o.notPaths) || matchField(o.paths, o.notPaths, (v) => matchPath(v, ctx.path)))
  );
}

function claimValues(claims: Record<string, unknown> | undefined, key: string): string[] {
  const names = [...key.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] ?? '');
  let cur: unknown = claims;
  for (const n of names) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[n] : undefined;
  if (cur === undefined || cur === null) return [];
  // Only scalar claim values reach Envoy's string matchers; a nested object matches nothing.
  const scalar = (v: unknown) => (typeof v === 'object' && v !== null ? [] : [String(v)]);
  return Array.isArray(cur) ? cur.flatMap(scalar) : scalar(cur);
}

const headerNames = new Map<string, string | null>();
/** `request.headers[<name>]` (or the experimental inline form) → the name lower-cased, else null; memoized per key. */
function headerNameOf(key: string): string | null {
  let name = headerNames.get(key);
  if (name === undefined) {
    const m = /^request\.(?:experimental\.inline\.)?headers\[(.+)\]$/.exec(key);
    name = m ? (m[1] ?? '').toLowerCase() : null;
    if (headerNames.size < 10_000) headerNames.set(key, name);
  }
  return name;
}

/** One `when` entry: values OR, notValues NOT-OR (conditions reference page). */
export function conditionMatches(c: Condition, ctx: EvalContext, policyNs: string, mesh: MeshOptions): boolean {
  const k = c.key;
  let test: (v: string) => boolean;
  const header = headerNameOf(k);
  if (header !== null) {
    const value = ctx.headers[header];
    test = (v) => matchString(v, value);
  } else if (k === 'source.ip') test = (v) => matchCidr(v, ctx.sourceIp);
  else if (k === 'remote.ip') test = (v) => matchCidr(v, ctx.remoteIp ?? ctx.sourceIp);
  else if (k === 'source.namespace') test = (v) => matchNamespace(v, ctx.principal);
  else if (k === 'source.principal') test = (v) => matchPrincipal(v, ctx.principal, mesh);
  else if (k === 'source.serviceAccount') test = (v) => matchServiceAccount(v, ctx.principal, policyNs);
  else if (k === 'source.trustDomain') test = (v) => matchTrustDomain(v, ctx.principal, mesh);
  else if (k === 'request.auth.principal') test = (v) => matchString(v, ctx.requestPrincipal);
  else if (k === 'request.auth.audiences') test = (v) => claimValues(ctx.jwtClaims, '[aud]').some((x) => matchString(v, x));
  else if (k === 'request.auth.presenter') test = (v) => claimValues(ctx.jwtClaims, '[azp]').some((x) => matchString(v, x));
  else if (k.startsWith('request.auth.claims'))
    test = (v) => claimValues(ctx.jwtClaims, k.slice('request.auth.claims'.length)).some((x) => matchString(v, x));
  else if (k === 'destination.ip') test = (v) => matchCidr(v, ctx.destIp);
  else if (k === 'destination.port') test = (v) => v === String(ctx.port);
  else if (k === 'connection.sni') test = (v) => matchString(v, ctx.sni);
  else test = () => false; // experimental.envoy.filters.*: Envoy metadata the simulator does not have
  return matchField(c.values, c.notValues, test);
}

/** rule ⇔ (OR from) ∧ (OR to) ∧ (AND when); an empty list means "any" (proto Rule comment). */
export function ruleMatches(rule: Rule, ctx: EvalContext, policyNs: string, mesh: MeshOptions): boolean {
  // Loops rather than some/every: asked per rule and request (same order, same short-circuits).
  const from = rule.from;
  if (from && from.length > 0) {
    let any = false;
    for (const f of from)
      if (sourceMatches(f.source, ctx, policyNs, mesh)) {
        any = true;
        break;
      }
    if (!any) return false;
  }
  const to = rule.to;
  if (to && to.length > 0) {
    let any = false;
    for (const t of to)
      if (operationMatches(t.operation, ctx)) {
        any = true;
        break;
      }
    if (!any) return false;
  }
  for (const c of rule.when ?? []) if (!conditionMatches(c, ctx, policyNs, mesh)) return false;
  return true;
}

/** First rule of `p` that matches on this chain, or null. `rules` absent/empty never matches. */
export function matchingRule(p: AuthzPolicy, ctx: EvalContext, mesh: MeshOptions): number | null {
  const rules = p.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (!r) continue; // nil rule is skipped (builder.go "skipped nil rule")
    const eff = ruleForChain(r, p.action, ctx.protocol);
    if (eff && ruleMatches(eff, ctx, p.namespace, mesh)) return i;
  }
  return null;
}

/**
 * CUSTOM → DENY → ALLOW at one workload (authorization-policy reference, header). AUDIT never
 * decides. With no enforced ALLOW policy there is no ALLOW filter, so the request is allowed;
 * with one, a request matching none is denied (builder.go: empty ALLOW RBAC denies).
 */
export function evaluateAuthz(
  applicable: readonly AuthzPolicy[],
  ctx: EvalContext,
  mesh: MeshOptions,
  /**
   * Names of every ALLOW policy applying to the workload, when `applicable` was pruned of
   * policies that cannot match this request (they still trigger the implicit deny).
   */
  allAllowNames: readonly string[] = [],
): AuthzResult {
  let custom: { p: AuthzPolicy; rule: number } | undefined;
  for (const p of applicable) {
    if (p.action !== 'CUSTOM') continue;
    const providers = mesh.extensionProviders;
    const provider = providers && p.provider !== undefined ? providers[p.provider] : undefined;
    // Mesh config known and the provider undefined there: istiod turns the policy's rules into
    // DENY rules (builder.go: getExtAuthz fails → "will generate deny configs",
    // getBadCustomDenyRules), so a request matching them is denied.
    if (providers && !provider) {
      const rule = matchingRule({ ...p, action: 'DENY' }, ctx, mesh);
      if (rule !== null)
        return {
          decision: 'DENY',
          policy: ref(p),
          rule,
          reason: `CUSTOM policy ${ref(p)} names extension provider "${p.provider ?? ''}" which meshConfig.extensionProviders does not define: istiod generates deny rules for it`,
        };
      continue;
    }
    // An HTTP-only ext-authz provider is not applied on TCP chains (builder.go "ignored CUSTOM
    // action with HTTP provider on TCP filter chain"); without mesh config the type is unknown.
    if (provider && !provider.tcp && ctx.protocol === 'tcp') continue;
    const rule = matchingRule(p, ctx, mesh);
    if (rule !== null && !custom) custom = { p, rule };
  }
  for (const p of applicable) {
    if (p.action !== 'DENY') continue;
    const rule = matchingRule(p, ctx, mesh);
    if (rule !== null) return { decision: 'DENY', policy: ref(p), rule, reason: `denied by DENY policy ${ref(p)} rules[${rule}]` };
  }
  const allows = applicable.filter((p) => p.action === 'ALLOW');
  const customNote = custom ? ` — only if ext-authz provider "${custom.p.provider ?? '?'}" allows it (CUSTOM policy ${ref(custom.p)})` : '';
  const dependsOn = custom ? { dependsOn: custom.p.provider ?? '?' } : {};
  if (allows.length === 0 && allAllowNames.length === 0) {
    if (custom)
      return { decision: 'ALLOW', policy: ref(custom.p), rule: custom.rule, reason: `no ALLOW policy applies${customNote}`, ...dependsOn };
    return { decision: 'ALLOW', policy: null, rule: null, reason: 'no ALLOW policy applies to the workload and no DENY policy matched' };
  }
  for (const p of allows) {
    const rule = matchingRule(p, ctx, mesh);
    if (rule !== null) {
      if (custom)
        return {
          decision: 'ALLOW',
          policy: ref(custom.p),
          rule: custom.rule,
          reason: `ALLOW policy ${ref(p)} rules[${rule}] matched${customNote}`,
          ...dependsOn,
        };
      return { decision: 'ALLOW', policy: ref(p), rule, reason: `allowed by ALLOW policy ${ref(p)} rules[${rule}]` };
    }
  }
  const names = allAllowNames.length > 0 ? allAllowNames : allows.map(ref);
  const shown = names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
  return {
    decision: 'DENY',
    policy: null,
    rule: null,
    reason: `RBAC: access denied — ALLOW policies apply (${shown}) and none matched`,
  };
}

/** Oldest first (creationTimestamp, then input order): istiod keeps the oldest of a level. */
const olderThan = (a: PeerAuthn, b: PeerAuthn) => ((a.created ?? '').localeCompare(b.created ?? '') || a.order - b.order) < 0;

export interface PeerAuthnResult {
  mode: Exclude<MtlsMode, 'UNSET'>;
  /** PA that set the mode; null = default PERMISSIVE. */
  from: string | null;
}

/**
 * Effective mode on a workload port (pilot/pkg/security/authn/policy_applier.go
 * ComposePeerAuthentication): workload (port-level first) → namespace → mesh → PERMISSIVE; UNSET
 * inherits. Selector PAs in the root namespace are ignored; portLevelMtls needs a selector.
 */
export function resolvePeerAuthn(
  pas: readonly PeerAuthn[],
  namespace: string,
  labels: Record<string, string>,
  port: number | undefined,
  mesh: MeshOptions,
): PeerAuthnResult {
  // One pass keeping the oldest of each level (the first of a stable sort by `olderThan`).
  let meshPa: PeerAuthn | undefined;
  let nsPa: PeerAuthn | undefined;
  let wlPa: PeerAuthn | undefined;
  for (const p of pas) {
    if (p.namespace !== mesh.rootNamespace && p.namespace !== namespace) continue;
    const empty = isEmptySelector(p.selector);
    if (empty && p.namespace === mesh.rootNamespace && (!meshPa || olderThan(p, meshPa))) meshPa = p;
    if (empty && p.namespace === namespace && (!nsPa || olderThan(p, nsPa))) nsPa = p;
    if (
      !empty &&
      namespace !== mesh.rootNamespace &&
      p.namespace === namespace &&
      selects(p.selector, labels) &&
      (!wlPa || olderThan(p, wlPa))
    )
      wlPa = p;
  }
  if (wlPa && port !== undefined) {
    const pm = wlPa.portLevel[String(port)];
    if (pm && pm !== 'UNSET') return { mode: pm, from: `${ref(wlPa)} (portLevelMtls ${port})` };
  }
  for (const pa of [wlPa, nsPa, meshPa]) {
    if (pa && pa.mode !== 'UNSET') return { mode: pa.mode, from: ref(pa) };
  }
  return { mode: 'PERMISSIVE', from: null };
}

/** What a client sidecar sends (§2.3 buildAutoMtlsSettings): 'mtls', 'plaintext' or app 'tls'. */
export function clientTransport(
  req: AuthzRequest,
  config: SecurityConfig,
  mesh: MeshOptions,
): { mode: 'mtls' | 'plaintext' | 'tls'; why: string } {
  if (req.transport) return { mode: req.transport, why: `transport given as ${req.transport}` };
  if (!req.source.sidecar) return { mode: 'plaintext', why: 'the caller has no sidecar' };
  const service = config.destRules.length === 0 ? '' : ((req.destination.service ?? req.host ?? '').split(':')[0]?.toLowerCase() ?? '');
  const dr = service
    ? findDestinationRule(config, req.source.namespace ?? '', service, req.destination.serviceNamespace ?? req.destination.namespace, mesh)
    : undefined;
  // portLevelSettings are keyed by the Service port the client calls (destination_rule.proto
  // PortTrafficPolicy.port: "the port on the destination service"), not the workload port.
  const tls = dr ? (dr.portTls[String(req.destination.servicePort ?? req.destination.port)] ?? dr.tls) : undefined;
  if (dr && tls) {
    if (tls === 'ISTIO_MUTUAL') return { mode: 'mtls', why: `DestinationRule ${ref(dr)} sets ISTIO_MUTUAL` };
    if (tls === 'DISABLE') return { mode: 'plaintext', why: `DestinationRule ${ref(dr)} sets tls DISABLE` };
    return { mode: 'tls', why: `DestinationRule ${ref(dr)} sets ${tls} (application TLS, no Istio identity)` };
  }
  if (!mesh.autoMtls) return { mode: 'plaintext', why: 'auto mTLS is off and no DestinationRule sets TLS' };
  // BestEffortInferServiceMTLSMode looks only at mesh- and namespace-level PAs.
  const svcMode = resolvePeerAuthn(config.peerAuthns, req.destination.serviceNamespace ?? req.destination.namespace, {}, undefined, mesh);
  if (svcMode.mode === 'DISABLE') return { mode: 'plaintext', why: `auto mTLS: ${svcMode.from} disables mTLS for the namespace` };
  const tlsLabel = req.destination.tlsModeLabel ?? req.destination.sidecar;
  if (!tlsLabel) return { mode: 'plaintext', why: 'auto mTLS: the endpoint has no sidecar (no tlsMode label)' };
  return { mode: 'mtls', why: 'auto mTLS to an injected endpoint' };
}

/** DR lookup: client namespace, then service namespace, then root namespace; exact host before wildcard. */
export function findDestinationRule(config: SecurityConfig, clientNs: string, host: string, serviceNs: string, mesh: MeshOptions) {
  if (config.destRules.length === 0) return undefined;
  const visible = (d: { namespace: string; exportTo?: string[] }, from: string) =>
    d.namespace === from || !d.exportTo || d.exportTo.includes('*') || d.exportTo.includes(from);
  for (const ns of [clientNs, serviceNs, mesh.rootNamespace]) {
    const cands = config.destRules.filter((d) => d.namespace === ns && visible(d, clientNs));
    // A short host in a DR means `<host>.<DR namespace>.svc.cluster.local`.
    const fq = (h: string) => (h.includes('.') ? h.toLowerCase() : `${h.toLowerCase()}.${ns}.svc.cluster.local`);
    const exact = cands.find((d) => fq(d.host) === host);
    if (exact) return exact;
    const wild = cands
      .filter((d) => d.host.startsWith('*') && (d.host === '*' || host.endsWith(d.host.slice(1).toLowerCase())))
      .sort((a, b) => b.host.length - a.host.length)[0];
    if (wild) return wild;
  }
  return undefined;
}

/**
 * Default SNI of Istio mTLS: `outbound_.<service port>_._.<fqdn>`, the outbound cluster name
 * (pilot/pkg/model/service.go BuildSubsetKey with the Service port; used by `connection.sni`).
 */
const defaultSni = (host: string | undefined, port: number) => {
  if (!host) return undefined;
  const colon = host.indexOf(':');
  return `outbound_.${port}_._.${colon < 0 ? host : host.slice(0, colon)}`;
};

export function principalOf(req: AuthzRequest, mesh: MeshOptions): string | undefined {
  if (req.source.principal) return req.source.principal.replace(/^spiffe:\/\//, '');
  if (req.source.namespace && req.source.serviceAccount)
    return `${mesh.trustDomain}/ns/${req.source.namespace}/sa/${req.source.serviceAccount}`;
  return undefined;
}

/** Header names lower-cased (a fresh object; most hops carry no headers). */
function lowerCaseNames(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * One request at one destination: capture → TLS (PeerAuthentication / Gateway server) → authz.
 * BLOCKED = refused before authorization runs.
 */
export function checkRequest(
  req: AuthzRequest,
  config: SecurityConfig,
  mesh: MeshOptions,
  /** Pre-selected (possibly pruned) policies for the destination, to skip selection. */
  pre?: { policies: readonly AuthzPolicy[]; allAllowNames: readonly string[] },
): AuthzResult {
  const d = req.destination;
  if (!d.sidecar)
    return { decision: 'ALLOW', policy: null, rule: null, reason: 'the destination has no sidecar: Istio does not authorize this hop' };
  if (!d.gatewayListener && (d.excludedPorts ?? []).includes(d.port)) {
    // Istio FAQ "Does auto mTLS work with excludeInboundPorts?": no, clients still send mTLS.
    const t = clientTransport(req, config, mesh);
    if (t.mode === 'mtls')
      return {
        decision: 'BLOCKED',
        policy: null,
        rule: null,
        reason: `port ${d.port} bypasses the sidecar but the client sends Istio mTLS (${t.why}): the handshake fails`,
      };
    return {
      decision: 'ALLOW',
      policy: null,
      rule: null,
      reason: `port ${d.port} is excluded from inbound capture: no PeerAuthentication or AuthorizationPolicy applies`,
    };
  }
  const t = clientTransport(req, config, mesh);
  let mtls = t.mode === 'mtls';
  if (d.gatewayListener) {
    if (d.gatewayListener === 'ISTIO_MUTUAL' && !mtls)
      return { decision: 'BLOCKED', policy: null, rule: null, reason: `the gateway server requires ISTIO_MUTUAL and ${t.why}` };
    if (d.gatewayListener !== 'ISTIO_MUTUAL') mtls = false; // SIMPLE/plain listeners carry no peer identity
  } else {
    const pa = resolvePeerAuthn(config.peerAuthns, d.namespace, d.labels, d.port, mesh);
    const by = pa.from ? `PeerAuthentication ${pa.from}` : 'default PERMISSIVE';
    if (pa.mode === 'STRICT' && !mtls)
      return { decision: 'BLOCKED', policy: null, rule: null, reason: `STRICT mTLS (${by}) rejects the connection: ${t.why}` };
    if (pa.mode === 'DISABLE' && mtls)
      return { decision: 'BLOCKED', policy: null, rule: null, reason: `mTLS ${by} is DISABLE but the client sends Istio mTLS (${t.why})` };
  }
  // "%00: the request will always be rejected with HTTP code 400"
  // (https://istio.io/latest/docs/reference/config/security/normalization/).
  if (d.protocol === 'http' && req.path !== undefined && req.path.includes('%00') && /%00/.test(req.path.split('?')[0] ?? ''))
    return { decision: 'BLOCKED', policy: null, rule: null, reason: 'the path contains %00: the proxy rejects the request with 400' };
  // jwt_authn runs before RBAC in the HTTP filter chain (authn filter, then authz filters).
  const jwt = authenticateJwt(req, config, mesh);
  if (jwt.status === 'rejected') return { decision: 'BLOCKED', policy: null, rule: null, reason: jwt.reason };
  const ctx: EvalContext = {
    principal: mtls ? principalOf(req, mesh) : undefined,
    requestPrincipal: d.protocol === 'http' ? (jwt.status === 'ok' ? jwt.requestPrincipal : req.requestPrincipal) : undefined,
    jwtClaims: jwt.status === 'ok' ? jwt.claims : req.jwtClaims,
    sourceIp: req.source.ip,
    remoteIp: remoteIpOf(req, mesh),
    destIp: d.ip,
    port: d.port,
    protocol: d.protocol,
    method: req.method,
    path: req.path === undefined ? undefined : normalizePath(req.path, mesh.pathNormalization),
    host: req.host,
    headers: lowerCaseNames(req.headers),
    sni: req.sni ?? (mtls ? defaultSni(req.destination.service ?? req.host, d.servicePort ?? d.port) : undefined),
  };
  const evaluated = pre
    ? evaluateAuthz(pre.policies, ctx, mesh, pre.allAllowNames)
    : evaluateAuthz(policiesFor(config.policies, d.namespace, d.labels, mesh), ctx, mesh);
  const res =
    !mtls && evaluated.decision === 'DENY' && evaluated.policy === null
      ? { ...evaluated, reason: `${evaluated.reason} (plaintext: the request has no principal)` }
      : evaluated;
  const shadow = shadowVerdicts(config, d.namespace, d.labels, ctx, mesh);
  if (!shadow && jwt.status !== 'ok') return res;
  return { ...res, ...(jwt.status === 'ok' ? { upstreamHeaders: jwt.upstreamHeaders } : {}), ...(shadow ? { shadow } : {}) };
}

const dryRunCache = new WeakMap<readonly AuthzPolicy[], AuthzPolicy[]>();
/**
 * Dry-run policies go to the RBAC filter's shadow_rules, one set per action (builder.go build:
 * isDryRun → shadowRules); Envoy evaluates them without enforcing and reports the result
 * ("shadow denied, matched policy ns[…]-policy[…]-rule[…]", authz_dry_run_action/result;
 * https://istio.io/latest/docs/tasks/security/authorization/authz-dry-run/).
 */
function shadowVerdicts(
  config: SecurityConfig,
  namespace: string,
  labels: Record<string, string>,
  ctx: EvalContext,
  mesh: MeshOptions,
): ShadowVerdict[] | undefined {
  let dry = dryRunCache.get(config.policies);
  if (!dry) dryRunCache.set(config.policies, (dry = config.policies.filter((p) => p.dryRun)));
  if (dry.length === 0) return undefined;
  const applicable = dry.filter((p) => (p.namespace === mesh.rootNamespace || p.namespace === namespace) && attaches(p, namespace, labels));
  const out: ShadowVerdict[] = [];
  for (const action of ['DENY', 'ALLOW'] as const) {
    const ps = applicable.filter((p) => p.action === action);
    if (ps.length === 0) continue;
    let hit: { policy: string; rule: number } | undefined;
    for (const p of ps) {
      const rule = matchingRule(p, ctx, mesh);
      if (rule !== null) {
        hit = { policy: ref(p), rule };
        break;
      }
    }
    const matched = hit !== undefined;
    out.push({
      action,
      result: (action === 'DENY') === matched ? 'denied' : 'allowed',
      policy: hit?.policy ?? null,
      rule: hit?.rule ?? null,
    });
  }
  return out.length ? out : undefined;
}
