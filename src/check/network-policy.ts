/**
 * Kubernetes NetworkPolicy ingress semantics over partly known pods, in three values: `yes`, `no`,
 * and `unknown` when the answer depends on a label, a named port or an address the inputs do not
 * carry (a rule reports only what is certain).
 *
 * Semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/, and the
 * networking/v1 API reference):
 * - a pod is isolated for ingress when a policy of its namespace selects it and lists `Ingress` in
 *   `policyTypes` (default: `Ingress`, plus `Egress` when `spec.egress` is set);
 * - an isolated pod admits a connection that some selecting policy's ingress rule admits; a rule
 *   admits when its `ports` (absent or empty: every port) and its `from` (absent or empty: every
 *   source) both match;
 * - a peer with only `podSelector` names pods of the policy's own namespace; only `namespaceSelector`,
 *   every pod of the matching namespaces; both, the matching pods of the matching namespaces; `ipBlock`,
 *   addresses (pod addresses are unknown here; host-network and outside callers are addresses too);
 * - a port entry matches protocol (default TCP) and number, or a range up to `endPort`; a name matches
 *   the container port of that name (unknown here).
 */
import type { KubeObject } from '../util/kube.ts';
import { arr, get, isObj, rec, str } from './util.ts';

export type Tri = 'yes' | 'no' | 'unknown';

export const triAnd = (a: Tri, b: Tri): Tri => (a === 'no' || b === 'no' ? 'no' : a === 'yes' && b === 'yes' ? 'yes' : 'unknown');
export const triOr = (a: Tri, b: Tri): Tri => (a === 'yes' || b === 'yes' ? 'yes' : a === 'no' && b === 'no' ? 'no' : 'unknown');
function triAny<T>(xs: readonly T[], f: (x: T) => Tri): Tri {
  let acc: Tri = 'no';
  for (const x of xs) {
    const v = f(x);
    if (v === 'yes') return 'yes';
    if (v === 'unknown') acc = 'unknown';
  }
  return acc;
}
function triAll<T>(xs: readonly T[], f: (x: T) => Tri): Tri {
  let acc: Tri = 'yes';
  for (const x of xs) {
    const v = f(x);
    if (v === 'no') return 'no';
    if (v === 'unknown') acc = 'unknown';
  }
  return acc;
}

/** Labels as far as they are known: `complete` when no other label can exist (a Namespace object read whole). */
export interface KnownLabels {
  labels: Readonly<Record<string, string>>;
  complete: boolean;
}

/** A label selector (matchLabels AND matchExpressions) over partly known labels. */
export function selects(selector: unknown, known: KnownLabels): Tri {
  const sel = rec(selector);
  const value = (k: string): string | undefined | null => (k in known.labels ? known.labels[k] : known.complete ? undefined : null);
  const terms: Tri[] = Object.entries(rec(sel.matchLabels)).map(([k, v]) => {
    const have = value(k);
    return have === null ? 'unknown' : have === String(v) ? 'yes' : 'no';
  });
  for (const e of arr(sel.matchExpressions)) {
    const key = str(get(e, 'key')) ?? '';
    const values = arr(get(e, 'values')).map(String);
    const have = value(key);
    const op = str(get(e, 'operator'));
    if (have === null) terms.push('unknown');
    else if (op === 'In') terms.push(have !== undefined && values.includes(have) ? 'yes' : 'no');
    else if (op === 'NotIn') terms.push(have === undefined || !values.includes(have) ? 'yes' : 'no');
    else if (op === 'Exists') terms.push(have !== undefined ? 'yes' : 'no');
    else if (op === 'DoesNotExist') terms.push(have === undefined ? 'yes' : 'no');
    else terms.push('no'); // the apiserver rejects other operators
  }
  return triAll(terms, (t) => t);
}

/** A caller: a pod of a namespace, or `anywhere` (host network, outside the cluster: only addresses name it). */
export type Caller = { anywhere: true } | { anywhere?: false; namespace: string; namespaceLabels: KnownLabels; pod: KnownLabels };

export interface Target {
  namespace: string;
  pod: KnownLabels;
}

const ingressTyped = (p: KubeObject): boolean => {
  const types = get(p, 'spec', 'policyTypes');
  return Array.isArray(types) ? types.includes('Ingress') : true; // default: Ingress (plus Egress when egress rules exist)
};

function peerAdmits(peer: unknown, policyNs: string, c: Caller): Tri {
  if (!isObj(peer)) return 'no';
  if (peer.ipBlock !== undefined) {
    // 0.0.0.0/0 without exceptions is every address; any other block may or may not hold the caller.
    const b = rec(peer.ipBlock);
    return b.cidr === '0.0.0.0/0' && arr(b.except).length === 0 ? 'yes' : 'unknown';
  }
  if (c.anywhere) return 'no'; // selectors name pods, never host-network or outside callers
  const nsOk: Tri =
    peer.namespaceSelector !== undefined ? selects(peer.namespaceSelector, c.namespaceLabels) : c.namespace === policyNs ? 'yes' : 'no';
  const podOk: Tri = peer.podSelector !== undefined ? selects(peer.podSelector, c.pod) : 'yes';
  return triAnd(nsOk, podOk);
}

/** `port` undefined: every port of the pod is needed (a rule limited to ports cannot be known to cover them). */
function portAdmits(rulePorts: unknown, port: number | undefined): Tri {
  const ports = arr(rulePorts);
  if (ports.length === 0) return 'yes';
  if (port === undefined) return 'unknown';
  return triAny(ports, (p) => {
    if ((str(get(p, 'protocol')) ?? 'TCP') !== 'TCP') return 'no';
    const v = get(p, 'port');
    if (v === undefined) return 'yes'; // protocol only: every port
    if (typeof v === 'string') return /^\d+$/.test(v) ? (Number(v) === port ? 'yes' : 'no') : 'unknown'; // a named port
    const end = get(p, 'endPort');
    return typeof v === 'number' && (typeof end === 'number' ? port >= v && port <= end : port === v) ? 'yes' : 'no';
  });
}

/**
 * A rule's peers indexed by the namespace a `kubernetes.io/metadata.name` selector names: generated
 * policies list every mesh namespace that way, and a caller's own name is always known, so the peers
 * naming another namespace can be skipped exactly (linear instead of callers × peers).
 */
interface CompiledRule {
  ports: unknown;
  everyone: boolean;
  byName: Map<string, unknown[]>;
  others: unknown[];
}
const compiled = new WeakMap<KubeObject, CompiledRule[]>();
const NAME_LABEL = 'kubernetes.io/metadata.name';

function compile(p: KubeObject): CompiledRule[] {
  let c = compiled.get(p);
  if (c) return c;
  c = arr(get(p, 'spec', 'ingress')).map((rule) => {
    const from = arr(get(rule, 'from'));
    const byName = new Map<string, unknown[]>();
    const others: unknown[] = [];
    for (const peer of from) {
      const ns = rec(get(peer, 'namespaceSelector'));
      const ml = rec(ns.matchLabels);
      const keys = Object.keys(ml);
      const named = !isObj(get(peer, 'ipBlock')) && keys.length === 1 && keys[0] === NAME_LABEL && arr(ns.matchExpressions).length === 0;
      if (named) {
        const name = String(ml[NAME_LABEL]);
        const list = byName.get(name);
        if (list) list.push(peer);
        else byName.set(name, [peer]);
      } else others.push(peer);
    }
    return { ports: get(rule, 'ports'), everyone: from.length === 0, byName, others };
  });
  compiled.set(p, c);
  return c;
}

function ruleAdmits(r: CompiledRule, policyNs: string, c: Caller, port: number | undefined): Tri {
  const portOk = portAdmits(r.ports, port);
  if (portOk === 'no') return 'no';
  if (r.everyone) return portOk;
  const peers = c.anywhere ? r.others : [...(r.byName.get(c.namespace) ?? []), ...r.others];
  return triAnd(
    portOk,
    triAny(peers, (peer) => peerAdmits(peer, policyNs, c)),
  );
}

export interface IngressVerdict {
  /** Some ingress policy certainly selects the target pod. */
  isolated: Tri;
  /** The connection is admitted (`yes` also when the pod is not isolated). */
  admitted: Tri;
  /** The policies that certainly select the pod. */
  selecting: KubeObject[];
}

/** The ingress policies that select or may select `target`: computed once per target, asked per caller. */
export interface Isolation {
  target: Target;
  candidates: Array<{ p: KubeObject; sel: Tri }>;
  isolated: Tri;
  /** The policies that certainly select the pod. */
  selecting: KubeObject[];
}

export function isolationOf(policies: readonly KubeObject[], target: Target): Isolation {
  const candidates = policies
    .filter((p) => p.metadata.namespace === target.namespace && ingressTyped(p))
    .map((p) => ({ p, sel: selects(get(p, 'spec', 'podSelector'), target.pod) }))
    .filter((x) => x.sel !== 'no');
  return {
    target,
    candidates,
    isolated: triAny(candidates, (x) => x.sel),
    selecting: candidates.filter((x) => x.sel === 'yes').map((x) => x.p),
  };
}

/** Is a TCP connection from `caller` to `port` (undefined: every port) of the isolation's target admitted? */
export function admits(iso: Isolation, caller: Caller, port: number | undefined): Tri {
  if (iso.isolated === 'no') return 'yes';
  const byPolicies = triAny(iso.candidates, (x) =>
    triAnd(
      x.sel,
      triAny(compile(x.p), (r) => ruleAdmits(r, iso.target.namespace, caller, port)),
    ),
  );
  // Isolated for sure: as the policies say. Maybe isolated: admitted, or unknown.
  return iso.isolated === 'yes' ? byPolicies : byPolicies === 'yes' ? 'yes' : 'unknown';
}

/** Can `caller` open a TCP connection to `port` of `target` under `policies` (every NetworkPolicy of the cluster or files)? */
export function ingressAdmits(policies: readonly KubeObject[], caller: Caller, target: Target, port: number | undefined): IngressVerdict {
  const iso = isolationOf(policies, target);
  return { isolated: iso.isolated, admitted: admits(iso, caller, port), selecting: iso.selecting };
}
