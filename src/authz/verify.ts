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
import type { AuthzPolicy, AuthzRequest, AuthzResult, Decision, Rule } from './types.ts';

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
  /** Live policies when `byHost` is empty (then they do not depend on the host). */
  hostless?: { policies: AuthzPolicy[]; allAllowNames: string[] };
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

/** Per (destination workload, host): the live policies and the sources they tell apart. */
interface LiveEntry {
  live: { policies: AuthzPolicy[]; allAllowNames: string[] };
  distinguished?: Set<string>;
}

/** The request one hop makes, as `checkRequest` takes it. */
export function hopRequest(hop: Hop): AuthzRequest {
  const c = hop.client;
  return {
    source: { namespace: c.namespace, serviceAccount: c.serviceAccount, sidecar: c.sidecar },
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
  };
}

const headersKey = (h: Record<string, string>): string => {
  for (const _ in h) return JSON.stringify(h);
  return '';
};

export class Verifier {
  readonly m: KnativeModel;
  private dest = new Map<string, DestIndex>();
  /** `dest` looked up by workload object first (the model reuses them), with the live entries per host. */
  private byWorkload = new WeakMap<Workload, { idx: DestIndex; hosts: Map<string, LiveEntry> }>();
  private hopCache = new WeakMap<Workload, Map<string, AuthzResult>>();
  /** Policies per namespace, each list in input order with the policy's input index. */
  private policiesByNs?: Map<string, Array<[number, AuthzPolicy]>>;
  evaluations = 0;

  constructor(m: KnativeModel) {
    this.m = m;
  }

  /**
   * Same list, same order as `policiesFor(config.policies, …)`: only the root namespace and the
   * workload's own namespace can apply, so only those two lists are filtered and merged.
   */
  private selectPolicies(w: Workload): AuthzPolicy[] {
    if (!this.policiesByNs) {
      this.policiesByNs = new Map();
      this.m.config.policies.forEach((p, i) => {
        const l = this.policiesByNs!.get(p.namespace);
        if (l) l.push([i, p]);
        else this.policiesByNs!.set(p.namespace, [[i, p]]);
      });
    }
    const root = this.policiesByNs.get(this.m.mesh.rootNamespace) ?? [];
    const own = w.namespace === this.m.mesh.rootNamespace ? [] : (this.policiesByNs.get(w.namespace) ?? []);
    const merged: AuthzPolicy[] = [];
    let a = 0;
    let b = 0;
    while (a < root.length || b < own.length) {
      const next = b >= own.length || (a < root.length && root[a]![0] < own[b]![0]) ? root[a++]! : own[b++]!;
      merged.push(next[1]);
    }
    return policiesFor(merged, w.namespace, w.labels, this.m.mesh);
  }

  private index(w: Workload): DestIndex {
    const byObj = this.byWorkload.get(w);
    if (byObj) return byObj.idx;
    const key = `${w.namespace}|${JSON.stringify(w.labels)}`;
    let idx = this.dest.get(key);
    if (!idx) {
      const policies = this.selectPolicies(w);
      const built: DestIndex = { policies, allowNames: policies.filter((p) => p.action === 'ALLOW').map(ref), byHost: new Map(), always: [] };
      policies.forEach((p, pi) => {
        (p.rules ?? []).forEach((r, ri) => {
          if (!r) return;
          const keys = hostKeys(r);
          if (!keys) built.always.push([pi, ri]);
          else
            for (const k of keys) {
              const list = built.byHost.get(k) ?? [];
              list.push([pi, ri]);
              built.byHost.set(k, list);
            }
        });
      });
      this.dest.set(key, built);
      idx = built;
    }
    this.byWorkload.set(w, { idx, hosts: new Map() });
    return idx;
  }

  private entry(w: Workload, host: string): LiveEntry {
    const idx = this.index(w);
    const hosts = this.byWorkload.get(w)!.hosts;
    let e = hosts.get(host);
    if (!e) hosts.set(host, (e = { live: this.prune(idx, host) }));
    return e;
  }

  private prune(idx: DestIndex, host: string): { policies: AuthzPolicy[]; allAllowNames: string[] } {
    // No rule names hosts: the live set is the same for every host.
    if (idx.byHost.size === 0) return (idx.hostless ??= this.pruneUncached(idx, host));
    return this.pruneUncached(idx, host);
  }

  private pruneUncached(idx: DestIndex, host: string): { policies: AuthzPolicy[]; allAllowNames: string[] } {
    const h = host.toLowerCase();
    const hits: Array<[number, number]> = [...idx.always];
    if (idx.byHost.size > 0) {
      const candidates = ['*', h];
      for (let i = 1; i < h.length; i++) candidates.push(`*${h.slice(i)}`);
      for (const c of new Set(candidates)) {
        const l = idx.byHost.get(c);
        if (!l) continue;
        // `*` alone needs a non-empty host; the other keys were generated from the host itself.
        hits.push(...l);
      }
    }
    const rulesByPolicy = new Map<number, Set<number>>();
    for (const [pi, ri] of hits) {
      const s = rulesByPolicy.get(pi) ?? new Set<number>();
      s.add(ri);
      rulesByPolicy.set(pi, s);
    }
    const policies: AuthzPolicy[] = [];
    let whole = rulesByPolicy.size === idx.policies.length;
    for (const [pi, set] of [...rulesByPolicy.entries()].sort((a, b) => a[0] - b[0])) {
      const p = idx.policies[pi]!;
      const rules = p.rules ?? [];
      // Nulling a null rule changes nothing: a policy keeps its object when every non-null rule is live.
      if (rules.every((r, ri) => !r || set.has(ri))) policies.push(p);
      else {
        whole = false;
        policies.push({ ...p, rules: rules.map((r, ri) => (set.has(ri) ? r : null)) });
      }
    }
    return { policies: whole ? idx.policies : policies, allAllowNames: idx.allowNames };
  }

  /** Policies at `w` with the rules that cannot match `host` removed (they never match this request). */
  live(w: Workload, host: string): { policies: AuthzPolicy[]; allAllowNames: string[] } {
    return this.entry(w, host).live;
  }

  /**
   * The decision at one hop, cached per destination workload and everything else the evaluation
   * reads from the hop. The returned object is shared: callers copy it before changing it.
   */
  private decide(hop: Hop): AuthzResult {
    let byKey = this.hopCache.get(hop.dest);
    if (!byKey) this.hopCache.set(hop.dest, (byKey = new Map()));
    // NUL-separated: no Kubernetes name, host, path or JSON text contains an unescaped NUL.
    const c = hop.client;
    const key = `${c.namespace}\0${c.serviceAccount}\0${c.sidecar}\0${hop.port}\0${hop.host}\0${hop.path}\0${hop.method}\0${hop.listener ?? ''}\0${hop.podIpFallback ?? false}\0${hop.service}\0${hop.serviceNamespace}\0${headersKey(hop.headers)}`;
    const hit = byKey.get(key);
    if (hit) return hit;
    this.evaluations++;
    const res = checkRequest(hopRequest(hop), this.m.config, this.m.mesh, this.live(hop.dest, hop.host));
    byKey.set(key, res);
    return res;
  }

  evalHop(hop: Hop): HopResult {
    return { ...this.decide(hop), hop: hop.label };
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
    // evalHops without the per-hop copies: the first refusing hop decides, else the last.
    let at = 0;
    let r = this.decide(hops[0]!);
    while (r.decision === 'ALLOW' && at < hops.length - 1) r = this.decide(hops[++at]!);
    return { variant, allowed: r.decision === 'ALLOW', hopIndex: at, decision: r.decision, policy: r.policy, reason: r.reason };
  }

  private hitsMemo = new Map<string, string[]>();
  private sourceSetMemo?: Set<string>;
  private clientSensitiveMemo?: Set<string>;

  private plainNamesMemo?: boolean;

  get sourceSet(): ReadonlySet<string> {
    return (this.sourceSetMemo ??= new Set(this.m.sources));
  }

  /** The trust domain and every source are free of `/` and line terminators (see `hits`). */
  private get plainNames(): boolean {
    const bad = /[/\n\r\u2028\u2029]/;
    return (this.plainNamesMemo ??= !bad.test(this.m.mesh.trustDomain) && !this.m.sources.some((s) => bad.test(s)));
  }

  /**
   * Sources (SA `default`) an identity pattern matches. Every caller's principal is
   * `<trustDomain>/ns/<source>/sa/default`; when the trust domain, the sources and the pattern are
   * plain names (no `/`, no line terminator, no `*`) the matchers reduce to a lookup:
   * - `namespaces` (regex `^spiffe://.*\/ns/<v>/.*$` over that principal) matches the source `v`,
   *   and also the source `ns` when `v` is `sa` (`…/ns/ns/sa/default` contains `/ns/sa/`);
   * - a principal without `*` is compared for equality (after the `cluster.local` rewrite);
   * - `serviceAccounts` `ns/sa` (split like `matchServiceAccount`) matches source `ns` iff sa is `default`.
   * Anything else is tested against every source with the real matcher, once per pattern.
   */
  private hits(kind: 'ns' | 'principal' | 'sa', v: string, policyNs: string): string[] {
    const sources = this.m.sources;
    const set = this.sourceSet;
    const td = this.m.mesh.trustDomain;
    if (!v.includes('*') && this.plainNames) {
      if (kind === 'ns' && !v.includes('/')) {
        const out = set.has(v) ? [v] : [];
        if (v === 'sa' && set.has('ns')) out.push('ns');
        return out;
      }
      if (kind === 'principal') {
        const m = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(v);
        // cluster.local, the trust domain and its aliases all name the local identities (bundle.go).
        if (!m || m[3] !== 'default' || !(m[1] === 'cluster.local' || m[1] === td || (this.m.mesh.trustDomainAliases ?? []).includes(m[1]!))) return [];
        return set.has(m[2]!) ? [m[2]!] : [];
      }
      if (kind === 'sa') {
        const [ns, sa] = v.includes('/') ? v.split('/', 2) : [policyNs, v];
        return sa === 'default' && ns !== undefined && set.has(ns) ? [ns] : [];
      }
    }
    const key = `${kind}|${policyNs}|${v}`;
    let out = this.hitsMemo.get(key);
    if (!out) {
      const principal = (ns: string) => `${td}/ns/${ns}/sa/default`;
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

  /**
   * Sources a live rule at `dest` (for `host`) can tell apart from the others; every other source
   * gets the same decision there. Memoized per destination and host.
   */
  distinguished(dest: Workload, host: string): ReadonlySet<string> {
    const e = this.entry(dest, host);
    if (e.distinguished) return e.distinguished;
    const out = new Set<string>();
    const total = this.m.sources.length;
    const add = (hit: string[]) => {
      // A pattern matching every source (or none) tells no source apart.
      if (hit.length !== total) for (const s of hit) out.add(s);
    };
    for (const p of e.live.policies) {
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
    e.distinguished = out;
    return out;
  }

  /**
   * Sources whose own sidecar may pick a different client TLS mode: the caller's namespace is the
   * first place `findDestinationRule` looks, and `exportTo` decides which other DestinationRules it
   * sees. Every source that hosts a DestinationRule or is named in an `exportTo` is told apart;
   * all others resolve the same DestinationRule for the same host.
   */
  clientSensitive(): ReadonlySet<string> {
    if (this.clientSensitiveMemo) return this.clientSensitiveMemo;
    const out = new Set<string>();
    for (const d of this.m.config.destRules) {
      if (this.sourceSet.has(d.namespace)) out.add(d.namespace);
      for (const e of d.exportTo ?? []) if (this.sourceSet.has(e)) out.add(e);
    }
    return (this.clientSensitiveMemo = out);
  }
}

export const variantsOf = (via: Via): Variant[] =>
  via === 'direct' ? ['serve'] : via === 'activator' ? ['proxy'] : ['serve', 'proxy'];

/**
 * Sources with identical outcomes for one target and path. The sources a policy tells apart are
 * listed; the class that holds "everyone else" keeps that part implicit (every source not told
 * apart), so building it costs nothing per source. `sources` lists the members on demand in the
 * order pair-by-pair expansion uses: listed ones (sorted), then the others in `m.sources` order.
 */
export class SourceClass {
  readonly outcomes: PathOutcome[];
  private readonly listed: string[] = [];
  private others: { all: readonly string[]; set: ReadonlySet<string>; named: ReadonlySet<string> } | null = null;
  private listedSet?: Set<string>;
  private members?: string[];

  constructor(outcomes: PathOutcome[]) {
    this.outcomes = outcomes;
  }

  /** @internal classifyTarget only */
  addListed(s: string): void {
    this.listed.push(s);
  }

  /** @internal classifyTarget only: the class also holds every source of `all` not in `named`. */
  addOthers(all: readonly string[], set: ReadonlySet<string>, named: ReadonlySet<string>): void {
    this.others = { all, set, named };
  }

  get size(): number {
    const o = this.others;
    return this.listed.length + (o ? o.all.length - o.named.size : 0);
  }

  has(s: string): boolean {
    const o = this.others;
    if (o && !o.named.has(s) && o.set.has(s)) return true;
    this.listedSet ??= new Set(this.listed);
    return this.listedSet.has(s);
  }

  /** Members in expansion order, without building the list. */
  *[Symbol.iterator](): IterableIterator<string> {
    yield* this.listed;
    const o = this.others;
    if (o) for (const s of o.all) if (!o.named.has(s)) yield s;
  }

  get sources(): readonly string[] {
    return (this.members ??= [...this]);
  }
}

export interface TargetPaths {
  target: Ksvc;
  via: Via;
  classes: SourceClass[];
}

/**
 * Classes of sources with identical outcomes for one target and path. A source's identity only
 * reaches the hops where it is the (injected) client; there, only the sources that a live rule
 * names (`distinguished`) or whose own sidecar may resolve a different DestinationRule
 * (`clientSensitive`) can be told apart, and every other source behaves like one representative.
 * Classes are merged only when every field of every variant's outcome is equal.
 */
export function classifyTarget(v: Verifier, k: Ksvc, via: Via): SourceClass[] {
  const sources = v.m.sources;
  if (sources.length === 0) return [];
  const variants = variantsOf(via);
  const first = sources[0]!;
  const probe = variants.map((variant) => pathHops(v.m, callerIn(first), k, via, variant));
  const named = new Set<string>();
  for (const hops of probe)
    for (const h of hops) {
      // A caller without sidecar sends plaintext and resolves no DestinationRule: nothing there depends on its namespace.
      if (h.client.name !== 'client' || h.client.namespace !== first || !h.client.sidecar) continue;
      for (const ns of v.distinguished(h.dest, h.host)) named.add(ns);
      for (const ns of v.clientSensitive()) named.add(ns);
    }
  const byKey = new Map<string, SourceClass>();
  const place = (s: string, hops: Hop[][] | null) => {
    const outcomes = variants.map((variant, i) => v.outcome(hops?.[i] ?? pathHops(v.m, callerIn(s), k, via, variant), variant));
    const key = JSON.stringify(outcomes);
    let c = byKey.get(key);
    if (!c) byKey.set(key, (c = new SourceClass(outcomes)));
    return c;
  };
  for (const s of [...named].sort()) place(s, null).addListed(s);
  // Everyone else, through one representative (the first source not told apart).
  if (named.size < sources.length) {
    let rep = first;
    if (named.has(rep)) for (const s of sources) if (!named.has(s)) { rep = s; break; }
    place(rep, rep === first ? probe : null).addOthers(sources, v.sourceSet, named);
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
    // Alternatives in order up to the first that works: later ones cannot change the row.
    const tries: Array<{ a: RequiredEdge['alternatives'][number]; r: ReturnType<Verifier['evalHops']> }> = [];
    for (const a of e.alternatives) {
      tries.push({ a, r: v.evalHops(a.hops) });
      if (tries[tries.length - 1]!.r.allowed) break;
    }
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
 * Counting without expanding rows: only the target's own-tenant namespaces expect "allow", every
 * other source expects "deny", so a class needs two checks and a count, not one per source.
 */
function countViolations(
  m: KnativeModel,
  k: Ksvc,
  via: Via,
  classes: SourceClass[],
  surprises: string[],
  nsByTenant: Map<string, string[]>,
  sourceSet: ReadonlySet<string>,
): number {
  const tenant = m.tenantOf.get(k.namespace);
  if (!IN_MESH.has(via) || tenant === undefined) return 0;
  const ownList = (nsByTenant.get(tenant) ?? []).filter((s) => sourceSet.has(s));
  const own = new Set(ownList);
  let n = 0;
  for (const c of classes) {
    const sameCount = ownList.filter((s) => c.has(s)).length;
    const cross = c.size - sameCount;
    if (cross > 0 && pick(c.outcomes, 'deny').allowed) {
      n += cross;
      if (surprises.length < 50) {
        let example = '';
        for (const s of c) if (!own.has(s)) { example = s; break; }
        surprises.push(`LEAK ${example} (+${cross - 1} more) → ${k.namespace}/${k.name} via ${via}: cross-tenant request allowed`);
      }
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
