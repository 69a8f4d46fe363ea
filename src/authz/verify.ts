/**
 * Reachability matrix over the Knative data-path model. Sources are grouped into equivalence
 * classes per (target, path): only namespaces that a live policy rule at the identity-dependent hop
 * names (literally or through a wildcard) can be told apart; every other source behaves like one
 * representative, so the cost grows with the policies, not with sources × targets.
 */
import { checkRequest, policiesFor } from './evaluate.ts';
import { matchNamespace, matchPrincipal, matchServiceAccount } from './match.ts';
import {
  callerIn,
  IN_MESH,
  pathHops,
  requiredEdges,
  systemEdges,
  VIAS,
  type Hop,
  type KnativeModel,
  type Ksvc,
  type RequiredEdge,
  type Variant,
  type Via,
  type Workload,
} from './knative.ts';
import type { AuthzPolicy, AuthzResult, Decision, Rule } from './types.ts';

export interface HopResult extends AuthzResult {
  hop: string;
}

export interface PathOutcome {
  variant: Variant;
  allowed: boolean;
  /** Hop that decided: the first refusing one, else the last. */
  hopIndex: number;
  decision: Decision;
  policy: string | null;
  reason: string;
}

export interface MatrixRow {
  from: string;
  to: string;
  via: Via;
  allowed: boolean;
  hop: string;
  policy: string | null;
  reason: string;
}

export interface EdgeRow {
  edge: RequiredEdge['id'];
  target: string | null;
  description: string;
  allowed: boolean;
  hop: string;
  policy: string | null;
  reason: string;
  impact: string;
}

interface DestIndex {
  policies: AuthzPolicy[];
  allowNames: string[];
  /** host pattern (lower case) → [policy index, rule index] */
  byHost: Map<string, Array<[number, number]>>;
  always: Array<[number, number]>;
}

const ref = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** Patterns of `to[].operation.hosts` that can be looked up by exact key: exact and `*suffix`. */
function hostKeys(rule: Rule): string[] | null {
  const to = rule.to ?? [];
  if (to.length === 0) return null;
  const keys: string[] = [];
  for (const t of to) {
    const op = t.operation;
    if (!op || !op.hosts || op.hosts.length === 0 || (op.notHosts && op.notHosts.length > 0)) return null;
    for (const h of op.hosts) {
      if (h !== '*' && h.endsWith('*')) return null; // prefix form: cannot index
      keys.push(h.toLowerCase());
    }
  }
  return keys;
}

export class Verifier {
  readonly m: KnativeModel;
  private dest = new Map<string, DestIndex>();
  private pruned = new Map<string, { policies: AuthzPolicy[]; allAllowNames: string[] }>();
  private hopCache = new Map<string, HopResult>();
  evaluations = 0;

  constructor(m: KnativeModel) {
    this.m = m;
  }

  private index(w: Workload): DestIndex {
    const key = `${w.namespace}|${JSON.stringify(w.labels)}`;
    let idx = this.dest.get(key);
    if (idx) return idx;
    const policies = policiesFor(this.m.config.policies, w.namespace, w.labels, this.m.mesh);
    idx = { policies, allowNames: policies.filter((p) => p.action === 'ALLOW').map(ref), byHost: new Map(), always: [] };
    policies.forEach((p, pi) => {
      (p.rules ?? []).forEach((r, ri) => {
        if (!r) return;
        const keys = hostKeys(r);
        if (!keys) idx!.always.push([pi, ri]);
        else
          for (const k of keys) {
            const list = idx!.byHost.get(k) ?? [];
            list.push([pi, ri]);
            idx!.byHost.set(k, list);
          }
      });
    });
    this.dest.set(key, idx);
    return idx;
  }

  /** Policies at `w` with the rules that cannot match `host` removed (they never match this request). */
  live(w: Workload, host: string): { policies: AuthzPolicy[]; allAllowNames: string[] } {
    const key = `${w.namespace}|${JSON.stringify(w.labels)}|${host}`;
    let out = this.pruned.get(key);
    if (out) return out;
    const idx = this.index(w);
    const h = host.toLowerCase();
    const hits: Array<[number, number]> = [...idx.always];
    const candidates = ['*', h];
    for (let i = 1; i < h.length; i++) candidates.push(`*${h.slice(i)}`);
    for (const c of new Set(candidates)) {
      const l = idx.byHost.get(c);
      if (!l) continue;
      // `*` alone needs a non-empty host; the other keys were generated from the host itself.
      hits.push(...l);
    }
    const rulesByPolicy = new Map<number, Set<number>>();
    for (const [pi, ri] of hits) {
      const s = rulesByPolicy.get(pi) ?? new Set<number>();
      s.add(ri);
      rulesByPolicy.set(pi, s);
    }
    const policies: AuthzPolicy[] = [];
    for (const [pi, set] of [...rulesByPolicy.entries()].sort((a, b) => a[0] - b[0])) {
      const p = idx.policies[pi]!;
      policies.push({ ...p, rules: (p.rules ?? []).map((r, ri) => (set.has(ri) ? r : null)) });
    }
    out = { policies, allAllowNames: idx.allowNames };
    this.pruned.set(key, out);
    return out;
  }

  evalHop(hop: Hop): HopResult {
    const key = [
      hop.client.namespace,
      hop.client.serviceAccount,
      hop.client.sidecar,
      hop.dest.namespace,
      hop.dest.name,
      hop.port,
      hop.host,
      hop.path,
      hop.listener ?? '',
      hop.podIpFallback ?? false,
      hop.service,
      JSON.stringify(hop.headers),
    ].join('|');
    const hit = this.hopCache.get(key);
    if (hit) return { ...hit, hop: hop.label };
    this.evaluations++;
    const res = checkRequest(
      {
        source: { namespace: hop.client.namespace, serviceAccount: hop.client.serviceAccount, sidecar: hop.client.sidecar },
        destination: {
          namespace: hop.dest.namespace,
          labels: hop.dest.labels,
          port: hop.port,
          protocol: 'http',
          sidecar: hop.dest.sidecar,
          excludedPorts: hop.dest.excludedPorts,
          gatewayListener: hop.listener,
          service: hop.service,
          serviceNamespace: hop.serviceNamespace,
        },
        method: hop.method,
        path: hop.path,
        host: hop.host,
        headers: hop.headers,
        // A sidecar forwards a request for a bare pod IP through its passthrough cluster: plaintext.
        transport: hop.podIpFallback ? 'plaintext' : undefined,
      },
      this.m.config,
      this.m.mesh,
      this.live(hop.dest, hop.host),
    );
    const out = { ...res, hop: hop.label };
    this.hopCache.set(key, out);
    return out;
  }

  evalHops(hops: Hop[]): { results: HopResult[]; allowed: boolean; at: number } {
    const results: HopResult[] = [];
    for (let i = 0; i < hops.length; i++) {
      const r = this.evalHop(hops[i]!);
      results.push(r);
      if (r.decision !== 'ALLOW') return { results, allowed: false, at: i };
    }
    return { results, allowed: true, at: hops.length - 1 };
  }

  outcome(hops: Hop[], variant: Variant): PathOutcome {
    const { results, allowed, at } = this.evalHops(hops);
    const r = results[at]!;
    return { variant, allowed, hopIndex: at, decision: r.decision, policy: r.policy, reason: r.reason };
  }

  /**
   * Source namespaces a live rule at `dest` (for `host`) can tell apart; null = none, every source
   * gets the same decision there.
   */
  private hitsMemo = new Map<string, string[]>();
  private sourceSet?: Set<string>;

  /** Sources (SA `default`) an identity pattern matches; literals are looked up, wildcards scanned once. */
  private hits(kind: 'ns' | 'principal' | 'sa', v: string, policyNs: string): string[] {
    const sources = this.m.sources;
    this.sourceSet ??= new Set(sources);
    if (!v.includes('*')) {
      if (kind === 'ns') return this.sourceSet.has(v) ? [v] : [];
      const m =
        kind === 'principal'
          ? /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(v)
          : /^(?:([^/]+)\/)?([^/]+)$/.exec(v);
      if (kind === 'principal') {
        if (!m || m[3] !== 'default' || !(m[1] === 'cluster.local' || m[1] === this.m.mesh.trustDomain)) return [];
        return this.sourceSet.has(m[2]!) ? [m[2]!] : [];
      }
      const ns = m?.[1] ?? policyNs;
      return m?.[2] === 'default' && this.sourceSet.has(ns) ? [ns] : [];
    }
    const key = `${kind}|${policyNs}|${v}`;
    let out = this.hitsMemo.get(key);
    if (!out) {
      const principal = (ns: string) => `${this.m.mesh.trustDomain}/ns/${ns}/sa/default`;
      const test =
        kind === 'ns'
          ? (ns: string) => matchNamespace(v, principal(ns))
          : kind === 'principal'
            ? (ns: string) => matchPrincipal(v, principal(ns), this.m.mesh)
            : (ns: string) => matchServiceAccount(v, principal(ns), policyNs);
      out = sources.filter(test);
      this.hitsMemo.set(key, out);
    }
    return out;
  }

  distinguished(dest: Workload, host: string): Set<string> {
    const out = new Set<string>();
    const total = this.m.sources.length;
    const add = (hit: string[]) => {
      // A pattern matching every source (or none) tells no source apart.
      if (hit.length !== total) for (const s of hit) out.add(s);
    };
    for (const p of this.live(dest, host).policies) {
      for (const r of p.rules ?? []) {
        if (!r) continue;
        for (const f of r.from ?? []) {
          const s = f.source;
          if (!s) continue;
          for (const v of [...(s.namespaces ?? []), ...(s.notNamespaces ?? [])]) add(this.hits('ns', v, p.namespace));
          for (const v of [...(s.principals ?? []), ...(s.notPrincipals ?? [])]) add(this.hits('principal', v, p.namespace));
          for (const v of [...(s.serviceAccounts ?? []), ...(s.notServiceAccounts ?? [])]) add(this.hits('sa', v, p.namespace));
                  }
        for (const c of r.when ?? []) {
          const vals = [...(c.values ?? []), ...(c.notValues ?? [])];
          if (c.key === 'source.namespace') for (const v of vals) add(this.hits('ns', v, p.namespace));
          if (c.key === 'source.principal') for (const v of vals) add(this.hits('principal', v, p.namespace));
          if (c.key === 'source.serviceAccount') for (const v of vals) add(this.hits('sa', v, p.namespace));
        }
      }
    }
    return out;
  }
}

export const variantsOf = (via: Via): Variant[] =>
  via === 'direct' ? ['serve'] : via === 'activator' ? ['proxy'] : ['serve', 'proxy'];

export interface SourceClass {
  sources: string[];
  outcomes: PathOutcome[];
}

export interface TargetPaths {
  target: Ksvc;
  via: Via;
  classes: SourceClass[];
}

/** Classes of sources with identical outcomes for one target and path. */
export function classifyTarget(v: Verifier, k: Ksvc, via: Via): SourceClass[] {
  const sources = v.m.sources;
  if (sources.length === 0) return [];
  const variants = variantsOf(via);
  const rep = sources[0]!;
  const probe = variants.map((variant) => pathHops(v.m, callerIn(rep), k, via, variant));
  // The caller's identity matters only where an injected caller is the client of the first hop.
  const identityHops = probe.map((hops) => (hops[0]!.client.name === 'client' && hops[0]!.client.sidecar ? hops[0]! : null));
  const named = new Set<string>();
  for (const h of identityHops) if (h) for (const ns of v.distinguished(h.dest, h.host)) named.add(ns);
  const rest = sources.filter((s) => !named.has(s));
  const groups: string[][] = [...[...named].sort().map((s) => [s]), ...(rest.length ? [rest] : [])];
  const byKey = new Map<string, SourceClass>();
  for (const g of groups) {
    const outcomes = variants.map((variant) => v.outcome(pathHops(v.m, callerIn(g[0]!), k, via, variant), variant));
    const key = JSON.stringify(outcomes.map((o) => [o.allowed, o.hopIndex, o.policy, o.decision]));
    const c = byKey.get(key);
    if (c) c.sources.push(...g);
    else byKey.set(key, { sources: [...g], outcomes });
  }
  return [...byKey.values()];
}

export type Expectation = 'allow' | 'deny' | null;

/** In-mesh paths must stay inside the target's tenant; other paths carry no expectation. */
export function expectation(m: KnativeModel, from: string, k: Ksvc, via: Via): Expectation {
  if (!IN_MESH.has(via)) return null;
  const tt = m.tenantOf.get(k.namespace);
  if (tt === undefined) return null;
  return m.tenantOf.get(from) === tt ? 'allow' : 'deny';
}

/** With the activator possibly in or out of the path, report the variant that breaks the expectation. */
export function pick(outcomes: PathOutcome[], exp: Expectation): PathOutcome {
  if (exp === 'deny') return outcomes.find((o) => o.allowed) ?? outcomes[0]!;
  if (exp === 'allow') return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
  return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
}

const variantNote = (via: Via, o: PathOutcome) =>
  via === 'direct' || via === 'activator' ? '' : o.variant === 'serve' ? ' [activator out of path]' : ' [activator in path]';

export function toRow(v: Verifier, from: string, k: Ksvc, via: Via, outcomes: PathOutcome[]): MatrixRow {
  const o = pick(outcomes, expectation(v.m, from, k, via));
  const hops = pathHops(v.m, callerIn(from), k, via, o.variant);
  return {
    from,
    to: `${k.namespace}/${k.name}`,
    via,
    allowed: o.allowed,
    hop: hops[o.hopIndex]!.label,
    policy: o.policy,
    reason: `${o.reason}${variantNote(via, o)}`,
  };
}

function edgeRows(v: Verifier, edges: RequiredEdge[], target: string | null): EdgeRow[] {
  return edges.map((e) => {
    const tries = e.alternatives.map((a) => ({ a, r: v.evalHops(a.hops) }));
    const ok = tries.find((t) => t.r.allowed);
    const shown = ok ?? tries[0]!;
    const res = shown.r.results[shown.r.at]!;
    return {
      edge: e.id,
      target,
      description: e.description,
      allowed: !!ok,
      hop: res.hop,
      policy: res.policy,
      reason: ok ? `${res.reason} (${shown.a.label})` : tries.map((t) => `${t.a.label}: ${t.r.results[t.r.at]!.reason}`).join('; '),
      impact: e.impact,
    };
  });
}

export interface VerifyReport {
  paths: MatrixRow[];
  requiredEdges: EdgeRow[];
  surprises: string[];
  violations: number;
  stats: { sources: number; targets: number; sourceClasses: number; evaluations: number };
}

/** The whole matrix; `expandRows: false` keeps only counts (bench-sized inputs). */
export function verifyModel(m: KnativeModel, opts: { expandRows?: boolean } = {}): VerifyReport & { byTarget: TargetPaths[] } {
  const v = new Verifier(m);
  const byTarget: TargetPaths[] = [];
  const paths: MatrixRow[] = [];
  const surprises: string[] = [];
  let violations = 0;
  let sourceClasses = 0;
  const expand = opts.expandRows !== false;
  const sourceSet = new Set(m.sources);
  const nsByTenant = new Map<string, string[]>();
  for (const [ns, t] of m.tenantOf) nsByTenant.set(t, [...(nsByTenant.get(t) ?? []), ns]);
  for (const k of m.ksvcs) {
    for (const via of VIAS) {
      const classes = classifyTarget(v, k, via);
      sourceClasses += classes.length;
      byTarget.push({ target: k, via, classes });
      if (!expand) {
        violations += countViolations(m, k, via, classes, surprises, nsByTenant, sourceSet);
        continue;
      }
      for (const c of classes) {
        for (const from of c.sources) {
          const exp = expectation(m, from, k, via);
          const o = pick(c.outcomes, exp);
          const bad = (exp === 'deny' && o.allowed) || (exp === 'allow' && !o.allowed);
          if (exp === 'deny' && o.allowed) violations++;
          if (expand || bad) {
            const row = toRow(v, from, k, via, c.outcomes);
            if (expand) paths.push(row);
            if (bad)
              surprises.push(
                exp === 'deny'
                  ? `LEAK ${from} → ${row.to} via ${via}: cross-tenant request allowed (${row.policy ?? 'no policy'}; ${row.reason})`
                  : `BROKEN ${from} → ${row.to} via ${via}: same-tenant request refused at ${row.hop}: ${row.reason}`,
              );
          }
        }
      }
    }
  }
  // Required edges depend on the target's policies only: evaluate once per policy-equivalent pod.
  const requiredEdgesOut: EdgeRow[] = [...edgeRows(v, systemEdges(m), null)];
  for (const k of m.ksvcs) requiredEdgesOut.push(...edgeRows(v, requiredEdges(m, k), `${k.namespace}/${k.name}`));
  for (const e of requiredEdgesOut) {
    if (e.allowed) continue;
    violations++;
    surprises.push(`BLOCKED ${e.description}: ${e.impact} — ${e.reason}`);
  }
  return {
    paths,
    requiredEdges: requiredEdgesOut,
    surprises,
    violations,
    stats: { sources: m.sources.length, targets: m.ksvcs.length, sourceClasses, evaluations: v.evaluations },
    byTarget,
  };
}

/**
 * Counting without expanding rows: within a class only the target's own-tenant namespaces expect
 * "allow", every other source expects "deny", so a class needs two checks, not one per source.
 */
function countViolations(
  m: KnativeModel,
  k: Ksvc,
  via: Via,
  classes: SourceClass[],
  surprises: string[],
  nsByTenant: Map<string, string[]>,
  sourceSet: Set<string>,
): number {
  const tenant = m.tenantOf.get(k.namespace);
  if (!IN_MESH.has(via) || tenant === undefined) return 0;
  const own = new Set(nsByTenant.get(tenant) ?? []);
  let n = 0;
  // Locate own namespaces by scanning every class but the largest (the "rest" class).
  let largest = 0;
  classes.forEach((c, i) => {
    if (c.sources.length > classes[largest]!.sources.length) largest = i;
  });
  const classOf = new Map<string, number>();
  classes.forEach((c, i) => {
    if (i !== largest) for (const s of c.sources) if (own.has(s)) classOf.set(s, i);
  });
  for (const [i, c] of classes.entries()) {
    const sameCount = [...own].filter((s) => (classOf.get(s) ?? largest) === i && (i !== largest || sourceSet.has(s))).length;
    const cross = c.sources.length - sameCount;
    if (cross > 0 && pick(c.outcomes, 'deny').allowed) {
      n += cross;
      const example = c.sources.find((s) => !own.has(s))!;
      if (surprises.length < 50) surprises.push(`LEAK ${example} (+${cross - 1} more) → ${k.namespace}/${k.name} via ${via}: cross-tenant request allowed`);
    }
    if (sameCount > 0 && !pick(c.outcomes, 'allow').allowed && surprises.length < 50)
      surprises.push(`BROKEN ${sameCount} same-tenant source(s) → ${k.namespace}/${k.name} via ${via}: same-tenant request refused`);
  }
  return n;
}

/** `verify --from NS --to NS/KSVC [--via P]`: every hop of every variant. */
export function explain(m: KnativeModel, from: string, k: Ksvc, vias: readonly Via[]) {
  const v = new Verifier(m);
  return vias.map((via) => ({
    via,
    expectation: expectation(m, from, k, via),
    variants: variantsOf(via).map((variant) => {
      const hops = pathHops(m, callerIn(from), k, via, variant);
      const { results, allowed } = v.evalHops(hops);
      return { variant, allowed, hops: results, skipped: hops.slice(results.length).map((h) => h.label) };
    }),
  }));
}
