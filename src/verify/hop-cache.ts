/**
 * Hop decisions with caches: policies per destination workload, pruned per host, and decisions
 * per (destination, everything else the evaluation reads from the hop). Which sources a live rule
 * can tell apart (`distinguished`) is memoized here too.
 */
import { checkRequest, policiesFor } from '../authz/evaluate.ts';
import { matchNamespace, matchPath, matchPrincipal, matchServiceAccount, matchString } from '../authz/match.ts';
import type { Hop, KnativeModel, Variant, Workload } from '../authz/knative.ts';
import type { AuthzPolicy, AuthzRequest, AuthzResult, Decision, Rule } from '../authz/types.ts';

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

interface DestIndex {
  policies: AuthzPolicy[];
  allowNames: string[];
  /** Built on first use (`hostIndex`): eventing receivers are asked by host and path instead. */
  hosts?: HostIndex;
  /** Live policies when no rule names hosts (then they do not depend on the host). */
  hostless?: { policies: AuthzPolicy[]; allAllowNames: string[] };
}

interface HostIndex {
  /** host pattern (lower case) → [policy index, rule index] */
  byHost: Map<string, Array<[number, number]>>;
  always: Array<[number, number]>;
  /** Lengths of the `*suffix` keys' suffixes not starting with `.`, longest first: only those suffixes of a host can hit. */
  suffixLengths: number[];
  /** Some key is `*.suffix`: it can only hit the suffixes that start at one of the host's dots. */
  dotSuffix?: boolean;
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

/** Per (destination workload, host, path): the policies that can match, and the sources they tell apart. */
export interface PathEntry {
  live: { policies: AuthzPolicy[]; allAllowNames: string[] };
  distinguished: ReadonlySet<string>;
  /** Per distinguished source: which of the live rules' identity patterns it matches (as `signatures`). */
  signatures: ReadonlyMap<string, string>;
}

/** Per (destination workload, host): the live policies and the sources they tell apart. */
interface LiveEntry {
  live: { policies: AuthzPolicy[]; allAllowNames: string[] };
  distinguished?: Set<string>;
  signatures?: Map<string, string>;
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
      servicePort: hop.servicePort,
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

/** One cached decision: what the evaluation reads from the hop besides destination, host and client namespace. */
interface Decided {
  serviceAccount: string;
  sidecar: boolean;
  port: number;
  servicePort: number | undefined;
  path: string;
  method: string;
  listener: string;
  podIpFallback: boolean;
  service: string;
  serviceNamespace: string;
  headers: Record<string, string>;
  res: AuthzResult;
}

/** Equal as JSON (same names in the same order, same values), without building the text. */
function sameHeaders(a: Record<string, string>, b: Record<string, string>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || a[ka[i]!] !== b[kb[i]!]) return false;
  return true;
}

/** `d` was decided for the same request as `hop` (the caller matched destination, host and client namespace). */
function sameRequest(d: Decided, hop: Hop): boolean {
  const c = hop.client;
  return (
    d.port === hop.port &&
    d.path === hop.path &&
    d.method === hop.method &&
    d.service === hop.service &&
    d.serviceNamespace === hop.serviceNamespace &&
    d.servicePort === hop.servicePort &&
    d.serviceAccount === c.serviceAccount &&
    d.sidecar === c.sidecar &&
    d.listener === (hop.listener ?? '') &&
    d.podIpFallback === (hop.podIpFallback ?? false) &&
    sameHeaders(d.headers, hop.headers)
  );
}

interface OpIndex {
  policies: AuthzPolicy[];
  /** Rules are numbered `policy index × stride + rule index`. */
  stride: number;
  always: number[];
  byPathSeg: Map<string, number | number[]>;
  byHost: Map<string, number | number[]>;
  /** The host `forPath` was last asked for, and its candidates from `byHost`. */
  lastHost?: string;
  lastHostCands?: number[];
  /** The last live rule set (as a key) and its entry: a tenant's namespaces share their live rules. */
  lastLiveKey?: string;
  lastLive?: PathEntry;
}

const NO_HITS: readonly string[] = Object.freeze([]);

/** First segment of `/seg/…` (undefined for other paths), as `/^\/([^/]+)\//` captures it. */
function pathSegment(path: string): string | undefined {
  if (path.charCodeAt(0) !== 47) return undefined;
  const end = path.indexOf('/', 1);
  return end > 1 ? path.slice(1, end) : undefined;
}

/** An operation `opIndex` can key: a `/seg/…` prefix for every path, or exact / `*.suffix` hosts only. */
function keyedOperation(op: NonNullable<Rule['to']>[number]['operation']): boolean {
  if (!op || op.notPaths?.length || op.notHosts?.length) return false;
  if (op.paths?.length) return op.paths.every((x) => /^\/[^/*]+\/.*$/.test(x));
  return !!op.hosts?.length && op.hosts.every((x) => !x.includes('*') || (x.startsWith('*.') && !x.slice(1).includes('*')));
}

/** Namespaces with fewer policies are filtered whole (building the index would cost more). */
const SELECTOR_INDEX_MIN = 64;

interface SelectorIndex {
  /** Policies `policiesFor` may keep whatever the labels: no selector, an empty one, a targetRef, a non-string value. */
  rest: Array<[number, AuthzPolicy]>;
  /** Selector policies (no targetRef): first label name → its value → policies. */
  byFirst: Map<string, Map<string, Array<[number, AuthzPolicy]>>>;
}

function selectorIndex(all: ReadonlyArray<[number, AuthzPolicy]>): SelectorIndex {
  const si: SelectorIndex = { rest: [], byFirst: new Map() };
  for (const e of all) {
    const p = e[1];
    // Dry-run policies are never enforced (policiesFor drops them).
    if (p.dryRun) continue;
    // `selects` tests every label of Object.keys(selector): the first one included.
    const first = !p.targetRef && p.selector ? Object.keys(p.selector)[0] : undefined;
    const value = first === undefined ? undefined : p.selector![first];
    if (first === undefined || typeof value !== 'string') {
      si.rest.push(e);
      continue;
    }
    let byValue = si.byFirst.get(first);
    if (!byValue) si.byFirst.set(first, (byValue = new Map()));
    const l = byValue.get(value);
    if (l) l.push(e);
    else byValue.set(value, [e]);
  }
  return si;
}

export class Verifier {
  readonly m: KnativeModel;
  private dest = new Map<string, DestIndex>();
  /** `dest` looked up by workload object first (the model reuses them), with the live entries per host. */
  private byWorkload = new WeakMap<Workload, { idx: DestIndex; hosts: Map<string, LiveEntry> }>();
  /**
   * destination → host → client namespace → decisions, told apart by the rest of the request. Fields are
   * compared, not joined into a key: a ksvc's requests rarely repeat, and building a key per request cost
   * more than the few comparisons within one client namespace.
   */
  private hopCache = new WeakMap<Workload, Map<string, Map<string, Decided[]>>>();
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
    const root = this.candidates(this.m.mesh.rootNamespace, w.labels);
    const own = w.namespace === this.m.mesh.rootNamespace ? [] : this.candidates(w.namespace, w.labels);
    const merged: AuthzPolicy[] = [];
    let a = 0;
    let b = 0;
    while (a < root.length || b < own.length) {
      const next = b >= own.length || (a < root.length && root[a]![0] < own[b]![0]) ? root[a++]! : own[b++]!;
      merged.push(next[1]);
    }
    return policiesFor(merged, w.namespace, w.labels, this.m.mesh);
  }

  /** Per namespace with many policies: its selector policies by their first label (`selectorIndex`). */
  private selectorMemo = new Map<string, SelectorIndex>();

  /**
   * The namespace's policies that can select a workload with `labels`, in input order: a superset of
   * what `policiesFor` keeps (it still filters them). A policy whose selector's first label the
   * workload lacks, or has with another value, cannot select it (`selects` needs every label).
   */
  private candidates(ns: string, labels: Record<string, string>): ReadonlyArray<[number, AuthzPolicy]> {
    const all = this.policiesByNs!.get(ns) ?? [];
    if (all.length < SELECTOR_INDEX_MIN) return all;
    let si = this.selectorMemo.get(ns);
    if (!si) this.selectorMemo.set(ns, (si = selectorIndex(all)));
    const out = [...si.rest];
    for (const [k, byValue] of si.byFirst) {
      const value = labels[k];
      const l = value === undefined ? undefined : byValue.get(value);
      if (l) for (const x of l) out.push(x);
    }
    if (si.byFirst.size > 0) out.sort((x, y) => x[0] - y[0]);
    return out;
  }

  private index(w: Workload): DestIndex {
    const byObj = this.byWorkload.get(w);
    if (byObj) return byObj.idx;
    const key = `${w.namespace}|${JSON.stringify(w.labels)}`;
    let idx = this.dest.get(key);
    if (!idx) {
      const policies = this.selectPolicies(w);
      const built: DestIndex = {
        policies,
        allowNames: policies.filter((p) => p.action === 'ALLOW').map(ref),
      };
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

  private hostIndex(idx: DestIndex): HostIndex {
    if (idx.hosts) return idx.hosts;
    const built: HostIndex = { byHost: new Map(), always: [], suffixLengths: [] };
    const lengths = new Set<number>();
    idx.policies.forEach((p, pi) => {
      (p.rules ?? []).forEach((r, ri) => {
        if (!r) return;
        const keys = hostKeys(r);
        if (!keys) built.always.push([pi, ri]);
        else
          for (const k of keys) {
            const list = built.byHost.get(k) ?? [];
            list.push([pi, ri]);
            built.byHost.set(k, list);
            // `*.suffix` keys are looked up at the host's dots (`dotSuffix`); other `*suffix` keys by length.
            if (k.length > 1 && k.startsWith('*')) {
              if (k.charCodeAt(1) === 46) built.dotSuffix = true;
              else lengths.add(k.length - 1);
            }
          }
      });
    });
    built.suffixLengths = [...lengths].sort((a, b) => b - a);
    return (idx.hosts = built);
  }

  private prune(idx: DestIndex, host: string): { policies: AuthzPolicy[]; allAllowNames: string[] } {
    if (idx.hostless) return idx.hostless;
    // No rule names hosts (a ksvc pod's policies, mostly): the live set is the same for every host,
    // every rule `pruneUncached` would keep, i.e. the policies with a rule, unchanged, without the index.
    if (!idx.hosts && idx.policies.every((p) => (p.rules ?? []).every((r) => !r || hostKeys(r) === null))) {
      const withRules = idx.policies.filter((p) => (p.rules ?? []).some((r) => !!r));
      return (idx.hostless = {
        policies: withRules.length === idx.policies.length ? idx.policies : withRules,
        allAllowNames: idx.allowNames,
      });
    }
    // No rule names hosts: the live set is the same for every host.
    if (this.hostIndex(idx).byHost.size === 0) return (idx.hostless ??= this.pruneUncached(idx, host));
    return this.pruneUncached(idx, host);
  }

  private pruneUncached(idx: DestIndex, host: string): { policies: AuthzPolicy[]; allAllowNames: string[] } {
    const h = host.toLowerCase();
    const hi = this.hostIndex(idx);
    const hits: Array<[number, number]> = [...hi.always];
    if (hi.byHost.size > 0) {
      // Candidate keys: `*`, the host and `*<suffix>` for every suffix, the whole host included
      // (`*abc` is a suffix match: it matches `abc` itself, matchString and Envoy's suffix matcher),
      // looked up only for the suffix lengths some key has. `*` alone needs a non-empty host; the
      // other keys were generated from the host itself. The order of `hits` does not matter (sorted below).
      const add = (c: string) => {
        const l = hi.byHost.get(c);
        if (l) hits.push(...l);
      };
      add('*');
      if (h !== '*') add(h);
      for (const n of hi.suffixLengths) {
        if (n > h.length) continue;
        // A suffix starting with `.` is asked below: only `*.suffix` keys can be it.
        if (h.charCodeAt(h.length - n) === 46) continue;
        const c = `*${h.slice(h.length - n)}`;
        if (c !== h) add(c);
      }
      if (hi.dotSuffix)
        for (let i = h.indexOf('.'); i >= 0; i = h.indexOf('.', i + 1)) {
          const c = `*${h.slice(i)}`;
          if (c !== h) add(c);
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
    const byPolicy = [...rulesByPolicy.entries()];
    if (byPolicy.length > 1) byPolicy.sort((a, b) => a[0] - b[0]);
    for (const [pi, set] of byPolicy) {
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
  private decide(hop: Hop, pre?: { policies: AuthzPolicy[]; allAllowNames: string[] }): AuthzResult {
    let byHost = this.hopCache.get(hop.dest);
    if (!byHost) this.hopCache.set(hop.dest, (byHost = new Map()));
    let byClient = byHost.get(hop.host);
    if (!byClient) byHost.set(hop.host, (byClient = new Map()));
    const c = hop.client;
    let list = byClient.get(c.namespace);
    if (!list) byClient.set(c.namespace, (list = []));
    for (const d of list) if (sameRequest(d, hop)) return d.res;
    this.evaluations++;
    const res = checkRequest(hopRequest(hop), this.m.config, this.m.mesh, pre ?? this.live(hop.dest, hop.host));
    list.push({
      serviceAccount: c.serviceAccount,
      sidecar: c.sidecar,
      port: hop.port,
      servicePort: hop.servicePort,
      path: hop.path,
      method: hop.method,
      listener: hop.listener ?? '',
      podIpFallback: hop.podIpFallback ?? false,
      service: hop.service,
      serviceNamespace: hop.serviceNamespace,
      headers: hop.headers,
      res,
    });
    return res;
  }

  /**
   * Forgets what is cached for one Knative Service once it is verified: its pod's caches, and the
   * entries for its hosts at the shared workloads (activator, gateways). Nothing later asks for them
   * again (a later request would only be evaluated anew), so the caches stay as large as one ksvc needs.
   */
  release(pod: Workload, hosts: readonly string[], shared: readonly Workload[]): void {
    this.hopCache.delete(pod);
    this.byWorkload.delete(pod);
    this.opIndexMemo.delete(pod);
    this.dest.delete(`${pod.namespace}|${JSON.stringify(pod.labels)}`);
    for (const w of shared) {
      const byHost = this.hopCache.get(w);
      const entries = this.byWorkload.get(w)?.hosts;
      for (const h of hosts) {
        byHost?.delete(h);
        entries?.delete(h);
      }
    }
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

  /** `evalHops(hops)`'s `allowed` and `results[at]` without copying every hop's result (shared: do not change it). */
  decidingHop(hops: Hop[]): { allowed: boolean; result: AuthzResult; hop: string } {
    let at = 0;
    let r = this.decide(hops[0]!);
    while (r.decision === 'ALLOW' && at < hops.length - 1) r = this.decide(hops[++at]!);
    return { allowed: r.decision === 'ALLOW', result: r, hop: hops[at]!.label };
  }

  outcome(hops: Hop[], variant: Variant): PathOutcome {
    // evalHops without the per-hop copies: the first refusing hop decides, else the last.
    let at = 0;
    let r = this.decide(hops[0]!);
    while (r.decision === 'ALLOW' && at < hops.length - 1) r = this.decide(hops[++at]!);
    return { variant, allowed: r.decision === 'ALLOW', hopIndex: at, decision: r.decision, policy: r.policy, reason: r.reason };
  }

  private hitsMemo = new Map<string, readonly string[]>();
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
  private nsHits = new Map<string, readonly string[]>();
  private principalHits = new Map<string, readonly string[]>();

  private hits(kind: 'ns' | 'principal' | 'sa', v: string, policyNs: string): readonly string[] {
    const sources = this.m.sources;
    const set = this.sourceSet;
    const td = this.m.mesh.trustDomain;
    if (!v.includes('*') && this.plainNames) {
      // Memoized per pattern (the same namespaces and principals recur in every tenant's policies);
      // the lists are shared: callers only read them.
      if (kind === 'ns' && !v.includes('/')) {
        let out = this.nsHits.get(v);
        if (!out) {
          out = set.has(v) ? [v] : NO_HITS;
          if (v === 'sa' && set.has('ns')) out = [...out, 'ns'];
          this.nsHits.set(v, out);
        }
        return out;
      }
      if (kind === 'principal') {
        let out = this.principalHits.get(v);
        if (out) return out;
        const m = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(v);
        // cluster.local, the trust domain and its aliases all name the local identities (bundle.go).
        if (
          !m ||
          m[3] !== 'default' ||
          !(m[1] === 'cluster.local' || m[1] === td || (this.m.mesh.trustDomainAliases ?? []).includes(m[1]!))
        )
          out = NO_HITS;
        else out = set.has(m[2]!) ? [m[2]!] : NO_HITS;
        this.principalHits.set(v, out);
        return out;
      }
      if (kind === 'sa') {
        const [ns, sa] = v.includes('/') ? v.split('/', 2) : [policyNs, v];
        return sa === 'default' && ns !== undefined && set.has(ns) ? [ns] : NO_HITS;
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
    return this.identities(dest, host).distinguished!;
  }

  /**
   * Per distinguished source at `dest` (for `host`): which of the live rules' identity patterns it
   * matches, as a string. Two sources with the same signature match exactly the same patterns there,
   * so every rule decides alike for them (as for the sources no pattern tells apart).
   */
  signatures(dest: Workload, host: string): ReadonlyMap<string, string> {
    return this.identities(dest, host).signatures!;
  }

  /** `distinguished` and `signatures` of one entry, from one pass over its live rules. */
  private identities(dest: Workload, host: string): LiveEntry {
    const e = this.entry(dest, host);
    if (!e.distinguished) {
      const sig = new Map<string, string>();
      e.distinguished = this.distinguishedBy(e.live.policies, () => true, sig);
      e.signatures = sig;
    }
    return e;
  }

  /**
   * Like `distinguished`, for requests to one host and path: rules none of whose operations can match
   * them never match the request, so they tell no source apart (eventing receivers authorise by path
   * or Host). Only narrows: any rule that might match stays.
   */
  distinguishedForPath(dest: Workload, host: string, path: string): ReadonlySet<string> {
    return this.pathEntry(dest, host, path).distinguished;
  }

  private pathMemo = new Map<string, PathEntry>();

  private pathEntry(dest: Workload, host: string, path: string) {
    const key = `${dest.namespace}\0${dest.name}\0${host}\0${path}`;
    let e = this.pathMemo.get(key);
    if (e) return e;
    e = this.forPath(dest, host, path);
    this.pathMemo.set(key, e);
    return e;
  }

  /**
   * The live policies and the sources they tell apart for one (destination, host, path), not memoized
   * by request: eventing asks once per target path (every namespace has its own), so keeping them would
   * only hold memory. Only the last entry per destination is kept, for the next request with the same live rules.
   */
  forPath(dest: Workload, host: string, path: string): PathEntry {
    const h = host.toLowerCase();
    const opLive = (op: NonNullable<NonNullable<Rule['to']>[number]['operation']>) => {
      // matchPath as the evaluation does (`{*}` / `{**}` templates included), or a templated rule would be pruned.
      if (op.paths?.length && !op.paths.some((p) => matchPath(p, path))) return false;
      if (op.notPaths?.some((p) => matchPath(p, path))) return false;
      // Hosts match the Host header case-insensitively (an operation is an AND of its fields).
      if (op.hosts?.length && !op.hosts.some((x) => matchString(x, h, true))) return false;
      if (op.notHosts?.some((x) => matchString(x, h, true))) return false;
      return true;
    };
    const live = (r: Rule) => !r.to?.length || r.to.some((t) => !t.operation || opLive(t.operation));
    // Candidate rules from the per-destination index (path's first segment, host suffixes), then the exact test.
    const idx = this.opIndex(dest);
    const stride = idx.stride;
    const cands: number[] = [];
    const add = (c: number | number[] | undefined) => {
      if (c === undefined) return;
      if (typeof c === 'number') cands.push(c);
      else for (const x of c) cands.push(x);
    };
    add(idx.always);
    const seg = pathSegment(path);
    if (seg !== undefined) add(idx.byPathSeg.get(seg));
    // Host candidates: the host and its `*.suffix` keys. A receiver is mostly asked with one host (the
    // broker's, the sink's) for every namespace: the last host's candidates are kept.
    if (idx.lastHost !== h) {
      const byHost: number[] = [];
      for (let i = -1; ;) {
        const c = idx.byHost.get(i < 0 ? h : `*${h.slice(i)}`);
        if (typeof c === 'number') byHost.push(c);
        else if (c) byHost.push(...c);
        i = h.indexOf('.', i + 1);
        if (i < 0) break;
      }
      idx.lastHost = h;
      idx.lastHostCands = byHost;
    }
    add(idx.lastHostCands);
    // Live candidates in (policy, rule) order: the encoding sorts like the pair.
    if (cands.length > 1) cands.sort((x, y) => x - y);
    const liveIds: number[] = [];
    for (let c = 0; c < cands.length; c++) {
      const id = cands[c]!;
      if (c > 0 && id === cands[c - 1]) continue;
      if (live(idx.policies[Math.floor(id / stride)]!.rules![id % stride]!)) liveIds.push(id);
    }
    // The entry is a function of the live rules alone (the destination's policies pruned to them):
    // the next request with the same live rules (a tenant's other namespace) shares it.
    const liveKey = liveIds.join(',');
    if (idx.lastLiveKey === liveKey) return idx.lastLive!;
    const policies: AuthzPolicy[] = [];
    for (let c = 0; c < liveIds.length;) {
      const pi = Math.floor(liveIds[c]! / stride);
      const p = idx.policies[pi]!;
      const rules = p.rules ?? [];
      const set = new Set<number>();
      for (; c < liveIds.length && Math.floor(liveIds[c]! / stride) === pi; c++) set.add(liveIds[c]! % stride);
      // The policies that can match this request: rules that cannot are dropped (as `prune` does by host);
      // an ALLOW policy left without rules still counts through allAllowNames.
      policies.push(rules.every((r, ri) => !r || set.has(ri)) ? p : { ...p, rules: rules.map((r, ri) => (set.has(ri) ? r : null)) });
    }
    const signatures = new Map<string, string>();
    const distinguished = this.distinguishedBy(policies, () => true, signatures);
    const entry = { live: { policies, allAllowNames: this.index(dest).allowNames }, distinguished, signatures };
    idx.lastLiveKey = liveKey;
    idx.lastLive = entry;
    return entry;
  }

  /**
   * The decision for a request whose host and path are both known up front (eventing receivers): policies
   * pruned by both. With `entry` (from `forPath` for this hop's destination, host and path) the decision is
   * neither looked up nor kept in the hop cache: each such request is asked once.
   */
  outcomeForPath(hop: Hop, entry?: PathEntry): PathOutcome {
    let r: AuthzResult;
    if (entry) {
      this.evaluations++;
      r = checkRequest(hopRequest(hop), this.m.config, this.m.mesh, entry.live);
    } else r = this.decide(hop, this.pathEntry(hop.dest, hop.host, hop.path).live);
    return { variant: 'serve', allowed: r.decision === 'ALLOW', hopIndex: 0, decision: r.decision, policy: r.policy, reason: r.reason };
  }

  private opIndexMemo = new WeakMap<Workload, OpIndex>();

  /**
   * Rules at `dest` by what their operations require: every operation a `/seg/…` path prefix → by
   * segment; every operation exact or `*.suffix` hosts → by host pattern; otherwise always a candidate.
   * A rule is the number `policy index × stride + rule index`; a key holding one rule holds the number
   * itself (most do: one array per key would be 30,000 long-lived arrays per receiver to collect).
   */
  private opIndex(dest: Workload): OpIndex {
    const memo = this.opIndexMemo.get(dest);
    if (memo) return memo;
    const policies = this.index(dest).policies;
    let stride = 1;
    for (const p of policies) stride = Math.max(stride, p.rules?.length ?? 0);
    const idx: OpIndex = { policies, stride, always: [], byPathSeg: new Map(), byHost: new Map() };
    const push = (m: Map<string, number | number[]>, k: string, v: number) => {
      const l = m.get(k);
      if (l === undefined) m.set(k, v);
      else if (typeof l === 'number') {
        if (l !== v) m.set(k, [l, v]);
      } else if (l[l.length - 1] !== v) l.push(v);
    };
    for (let pi = 0; pi < policies.length; pi++) {
      const rules = policies[pi]!.rules ?? [];
      for (let ri = 0; ri < rules.length; ri++) {
        const r = rules[ri];
        if (!r) continue;
        const id = pi * stride + ri;
        const to = r.to ?? [];
        if (!(to.length > 0 && to.every((t) => keyedOperation(t.operation)))) {
          idx.always.push(id);
          continue;
        }
        for (const t of to) {
          const op = t.operation!;
          if (op.paths?.length) for (const x of op.paths) push(idx.byPathSeg, pathSegment(x)!, id);
          else for (const x of op.hosts!) push(idx.byHost, x.toLowerCase(), id);
        }
      }
    }
    this.opIndexMemo.set(dest, idx);
    return idx;
  }

  private distinguishedBy(policies: readonly AuthzPolicy[], liveRule: (r: Rule) => boolean, sig?: Map<string, string>): Set<string> {
    const out = new Set<string>();
    const total = this.m.sources.length;
    let field = 0;
    /**
     * One field (an OR over its values, or a `not…` field over them): every value's sources are told
     * apart; with `sig`, the sources matching the field get the field's id in their signature.
     */
    const add = (kind: 'ns' | 'principal' | 'sa', vals: readonly string[] | undefined, policyNs: string) => {
      if (!vals || vals.length === 0) return;
      let members: Set<string> | null = null;
      for (const v of vals) {
        const hit = this.hits(kind, v, policyNs);
        // A pattern matching every source (or none) tells no source apart.
        if (hit.length === total || hit.length === 0) continue;
        if (sig) members ??= new Set<string>();
        for (const s of hit) {
          out.add(s);
          members?.add(s);
        }
      }
      if (!sig || !members || members.size === 0 || members.size === total) return;
      const id = `${field++},`;
      for (const s of members) sig.set(s, (sig.get(s) ?? '') + id);
    };
    for (const p of policies) {
      for (const r of p.rules ?? []) {
        if (!r || !liveRule(r)) continue;
        for (const f of r.from ?? []) {
          const s = f.source;
          if (!s) continue;
          add('ns', s.namespaces, p.namespace);
          add('ns', s.notNamespaces, p.namespace);
          add('principal', s.principals, p.namespace);
          add('principal', s.notPrincipals, p.namespace);
          add('sa', s.serviceAccounts, p.namespace);
          add('sa', s.notServiceAccounts, p.namespace);
        }
        for (const c of r.when ?? []) {
          const kind =
            c.key === 'source.namespace'
              ? 'ns'
              : c.key === 'source.principal'
                ? 'principal'
                : c.key === 'source.serviceAccount'
                  ? 'sa'
                  : null;
          if (!kind) continue;
          add(kind, c.values, p.namespace);
          add(kind, c.notValues, p.namespace);
        }
      }
    }
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
