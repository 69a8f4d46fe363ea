/**
 * Per-unit symmetry: rendered tenants get policies that differ only by their namespace names, so a
 * request into one tenant and the "same" request into another get the same decision. Two requests are
 * treated alike only when a signature built from the actual inputs — every live policy at the
 * destination and every request field, with the target unit's own namespace names replaced by
 * placeholders — is equal; nothing about the manifests is assumed.
 *
 * Why equal signatures give equal decisions: let A and B be two targets with equal signatures. The
 * token renaming π that swaps A's i-th unit name with B's i-th and fixes every other token maps A's
 * strings onto B's (a literal token of the signature is a unit name of neither: each side replaced its
 * own). Every comparison `checkRequest` makes is preserved by such a renaming as long as it compares
 * whole tokens — equality, `prefix*` ending at a separator, `*suffix` starting at one, `*`, the
 * `/ns/<v>/` substring test of `namespaces`, the `/`-split principal and service-account forms —
 * so patterns that could cut a token (`*-ns-0`, `tenant-*`, a `*` inside, path templates), unit names
 * differing only in case from a token, names that are not DNS labels, and inputs the signature does
 * not cover (DestinationRules, RequestAuthentications) turn the signature off (null) for that
 * request. Only decisions are shared: policy names and reasons are text, and text is evaluated exactly.
 */
import { resolvePeerAuthn } from '../authz/evaluate.ts';
import type { Hop } from '../authz/knative.ts';
import type { AuthzPolicy, MeshOptions, Rule, SecurityConfig } from '../authz/types.ts';

const SEP = /[./:]/;
const SEP_SPLIT = /([./:])/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Marks a placeholder; no manifest string contains it (checked). */
const MARK = '\u0001';

/** Renames a unit's namespaces (in the unit's order) to placeholders; `ok` false = cannot be renamed soundly. */
export class Renaming {
  private readonly index = new Map<string, number>();
  readonly names: readonly string[];
  readonly ok: boolean;

  constructor(names: readonly string[]) {
    this.names = names;
    names.forEach((n, i) => this.index.set(n, i));
    this.ok = names.every((n) => DNS_LABEL.test(n));
  }

  /** Placeholder index of a unit namespace. */
  indexOf(name: string): number | undefined {
    return this.index.get(name);
  }

  /** A request value (host, path, header value, namespace): tokens renamed. */
  value(s: string): string | null {
    if (s.includes(MARK)) return null;
    // Most strings name none of the unit's namespaces (in any case): nothing to rename.
    const lower = s.toLowerCase();
    if (!this.names.some((n) => lower.includes(n))) return s;
    const parts = s.split(SEP_SPLIT);
    for (let j = 0; j < parts.length; j += 2) {
      const tok = parts[j]!;
      const i = this.index.get(tok);
      if (i !== undefined) parts[j] = `${MARK}${i}${MARK}`;
      else if (this.index.has(tok.toLowerCase())) return null; // a case variant: hosts compare without case
    }
    return parts.join('');
  }
}

/** A policy pattern whose `*` (if any) cannot match part of a token, and no path template. */
const safePattern = (s: string): boolean => {
  if (s.includes('{') || s.includes(MARK)) return false;
  const star = s.indexOf('*');
  if (star < 0 || s === '*') return true;
  if (s.indexOf('*', star + 1) >= 0) return false;
  return (star === 0 && SEP.test(s[1]!)) || (star === s.length - 1 && SEP.test(s[s.length - 2]!));
};

/** Per rule: its tokens (lower case) and its text; null text = a pattern that renaming could change the meaning of. */
const ruleInfo = new WeakMap<Rule, { tokens: Set<string>; text: string | null }>();
/** Per rule: the renamed text for the last renaming it was asked with (a unit's own rules meet only its renaming). */
const ruleRenamed = new WeakMap<Rule, { r: Renaming; text: string | null }>();

function infoOf(rule: Rule) {
  let info = ruleInfo.get(rule);
  if (info) return info;
  const tokens = new Set<string>();
  let safe = true;
  const text = JSON.stringify(rule, (_k, x: unknown) => {
    if (typeof x === 'string') {
      if (!safePattern(x)) safe = false;
      for (const t of x.toLowerCase().split(SEP)) tokens.add(t);
    }
    return x;
  });
  ruleInfo.set(rule, (info = { tokens, text: safe ? text : null }));
  return info;
}

function ruleText(r: Renaming, rule: Rule): string | null {
  const info = infoOf(rule);
  if (info.text === null) return null;
  // No token of the rule is (a case variant of) a unit name: renaming leaves it as it is.
  if (!r.names.some((n) => info.tokens.has(n))) return info.text;
  const memo = ruleRenamed.get(rule);
  if (memo && memo.r === r) return memo.text;
  let bad = false;
  const text = JSON.stringify(rule, (_k, x: unknown) => {
    if (typeof x !== 'string') return x;
    const v = r.value(x);
    if (v === null) bad = true;
    return v;
  });
  const out = bad ? null : text;
  ruleRenamed.set(rule, { r, text: out });
  return out;
}

/** Policies as the decision sees them (no names: they are text), renamed; null when not renamable. */
export function policySignature(r: Renaming, policies: readonly AuthzPolicy[]): string | null {
  let out = '';
  for (const p of policies) {
    const ns = r.value(p.namespace);
    if (ns === null) return null;
    out += `${ns}\0${p.action}\0${p.provider ?? ''}\0${p.rules === undefined ? 'none' : p.rules.length}`;
    for (const rule of p.rules ?? []) {
      const t = rule ? ruleText(r, rule) : 'null';
      if (t === null) return null;
      out += `\0${t}`;
    }
    out += '\n';
  }
  return out;
}

/** The mesh-wide strings every principal is built from (trust domain and aliases), renamed. */
export function meshSignature(r: Renaming, mesh: MeshOptions): string | null {
  const parts = [mesh.trustDomain, ...(mesh.trustDomainAliases ?? [])].map((s) => r.value(s));
  return parts.some((p) => p === null) ? null : parts.join(',');
}

/** Paths `normalizePath` leaves as they are in every mode (match.ts PLAIN_PATH): renaming commutes with it. */
const PLAIN_PATH = /^\/(?:[-0-9A-Z_a-z~]+\/)*[-0-9A-Z_a-z~]*$/;

/**
 * One hop's decision inputs, renamed: the request (the client's namespace only when `client` is
 * true — callers that group sources add them themselves), the destination's mTLS modes and the live
 * policies. Null when the hop cannot be renamed soundly.
 */
export function hopSignature(
  r: Renaming,
  hop: Hop,
  live: { policies: readonly AuthzPolicy[]; allAllowNames: readonly string[] },
  config: SecurityConfig,
  mesh: MeshOptions,
  client: boolean,
): string | null {
  if (config.destRules.length > 0 || (config.requestAuthns ?? []).length > 0) return null;
  if (!PLAIN_PATH.test(hop.path)) return null;
  const pol = policySignature(r, live.policies);
  const meshSig = meshSignature(r, mesh);
  const d = hop.dest;
  const svcNs = hop.serviceNamespace || d.namespace;
  const strings = [
    client ? hop.client.namespace : '',
    hop.client.serviceAccount,
    'ns/sa',
    hop.host,
    hop.path,
    hop.method,
    hop.service,
    svcNs,
    ...Object.entries(hop.headers).flat(),
  ].map((s) => r.value(s));
  if (pol === null || meshSig === null || strings.some((s) => s === null)) return null;
  const destMode = resolvePeerAuthn(config.peerAuthns, d.namespace, d.labels, hop.port, mesh).mode;
  const svcMode = resolvePeerAuthn(config.peerAuthns, svcNs, {}, undefined, mesh).mode;
  return JSON.stringify([
    strings,
    hop.client.sidecar,
    hop.port,
    hop.servicePort ?? null,
    hop.listener ?? null,
    hop.podIpFallback ?? false,
    d.sidecar,
    d.excludedPorts.includes(hop.port),
    destMode,
    svcMode,
    meshSig,
    live.allAllowNames.length > 0,
    pol,
  ]);
}
