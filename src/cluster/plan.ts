// Pure planning logic of the cluster layer: phases, ownership labels, change detection, prune selection.
import { createHash } from 'node:crypto';
import { PROFILES, profileFor, type GroupKind } from '../flavors/index.ts';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import { splitApiVersion } from './discovery.ts';

export const FIELD_MANAGER = 'serverless-mesh';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const SPEC_LABEL = 'serverlessmesh.dev/spec';
/** Hash of what we last applied; lets an unchanged re-apply skip the PATCH (see isUnchanged). */
export const APPLIED_HASH = 'serverlessmesh.dev/applied-hash';

export type PhaseId = 'namespaces' | 'control-plane' | 'member-roll' | 'gateways' | 'knative' | 'policies' | 'workloads';

export interface Phase {
  id: PhaseId;
  title: string;
  objects: KubeObject[];
}

const PHASE_TITLES: Record<PhaseId, string> = {
  namespaces: 'Namespaces',
  'control-plane': 'Mesh control plane',
  'member-roll': 'Mesh member roll',
  gateways: 'Gateways, TLS and mesh configuration',
  knative: 'Knative operator CRs',
  policies: 'AuthorizationPolicies',
  workloads: 'Knative resources',
};
export const PHASE_ORDER: PhaseId[] = ['namespaces', 'control-plane', 'member-roll', 'gateways', 'knative', 'policies', 'workloads'];

const groupKind = (o: Pick<KubeObject, 'apiVersion' | 'kind'>) => `${splitApiVersion(o.apiVersion).group}/${o.kind}`;
const groupKinds = (pick: (p: (typeof PROFILES)[keyof typeof PROFILES]) => GroupKind[]) =>
  new Set(Object.values(PROFILES).flatMap((p) => pick(p).map(groupKind)));
// Objects do not say which flavour rendered them: a kind is control plane if any flavour says so.
const CONTROL_PLANE_KINDS = groupKinds((p) => p.apply.controlPlaneKinds);
const MEMBERSHIP_KINDS = groupKinds((p) => p.apply.membershipKinds);
const READY_KINDS = groupKinds((p) => p.apply.readyKinds);

/** Which phase an object belongs to (research §3/§4: the documented install order). */
export function phaseOf(o: Pick<KubeObject, 'apiVersion' | 'kind'>): PhaseId {
  const { group } = splitApiVersion(o.apiVersion);
  if (group === '' && o.kind === 'Namespace') return 'namespaces';
  const gk = groupKind(o);
  if (CONTROL_PLANE_KINDS.has(gk)) return 'control-plane';
  if (MEMBERSHIP_KINDS.has(gk)) return 'member-roll';
  if (group === 'operator.knative.dev' || group === 'operator.serverless.openshift.io') return 'knative';
  // Deny-by-default policies before sidecars know the ALLOW ones break activator→autoscaler (§9.10).
  if (group === 'security.istio.io' && o.kind === 'AuthorizationPolicy') return 'policies';
  // Served only once the Knative operator has installed Serving/Eventing.
  if (/(^|\.)knative\.dev$/.test(group)) return 'workloads';
  return 'gateways';
}

/** Groups whose APIs only appear after a Knative CR is Ready: resolved at their phase, not up front. */
export function servedLate(o: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean {
  return phaseOf(o) === 'workloads';
}

/** Objects grouped into ordered phases; empty phases dropped; render order kept inside a phase. */
export function planPhases(objects: readonly KubeObject[]): Phase[] {
  const by = new Map<PhaseId, KubeObject[]>();
  for (const o of objects) {
    const p = phaseOf(o);
    const list = by.get(p) ?? [];
    list.push(o);
    by.set(p, list);
  }
  return PHASE_ORDER.filter((id) => by.has(id)).map((id) => ({ id, title: PHASE_TITLES[id], objects: by.get(id)! }));
}

/** Kinds whose status carries a Ready condition the operator sets. */
export function hasReadyCondition(o: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean {
  const { group } = splitApiVersion(o.apiVersion);
  return READY_KINDS.has(groupKind(o)) || group === 'operator.knative.dev' || group === 'operator.serverless.openshift.io';
}

export function isKnativeServing(o: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean {
  return splitApiVersion(o.apiVersion).group === 'operator.knative.dev' && o.kind === 'KnativeServing';
}

/** Stable identity across versions: group/Kind/namespace/name. */
export function objectKey(o: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  const { group } = splitApiVersion(o.apiVersion ?? '');
  return `${group}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  // Hot on large applies (every object is hashed): plain loops, no intermediate arrays.
  let out: string;
  if (Array.isArray(v)) {
    out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + canonicalJson(v[i]);
    return `${out}]`;
  }
  const rec = v as Record<string, unknown>;
  const keys = Object.keys(rec).sort();
  out = '{';
  let first = true;
  for (const k of keys) {
    if (rec[k] === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(rec[k])}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The body we send: the rendered object plus our ownership labels and the hash of everything else.
 * Input is not mutated: only the parts changed here are copied (a deep clone of thousands of objects
 * was a visible share of a large apply's CPU).
 */
export function withOwnership(o: KubeObject, specName: string): KubeObject {
  const c: KubeObject = { ...o, metadata: { ...o.metadata } };
  fillListMapKeys(c);
  dropEmptyOperatorSpec(c);
  c.metadata.labels = { ...(c.metadata.labels ?? {}), [MANAGED_BY]: FIELD_MANAGER, [SPEC_LABEL]: specName };
  const annotations = { ...(c.metadata.annotations ?? {}) };
  delete annotations[APPLIED_HASH];
  c.metadata.annotations = annotations;
  const hash = createHash('sha256').update(canonicalJson(c)).digest('hex').slice(0, 20);
  c.metadata.annotations = { ...annotations, [APPLIED_HASH]: hash };
  return c;
}

/**
 * Service ports are a list-map keyed by (port, protocol). Server-side apply before Kubernetes 1.21 does not
 * default the key and rejects a port without `protocol` (500 "omits key field"); TCP is the server default.
 */
function fillListMapKeys(o: KubeObject): void {
  if (o.apiVersion !== 'v1' || o.kind !== 'Service') return;
  const spec = o.spec as { ports?: { protocol?: string }[] } | undefined;
  if (!spec?.ports) return;
  o.spec = { ...spec, ports: spec.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })) };
}

/**
 * `spec: {}` on a Knative operator CR: apiservers before ~1.21 turn an empty preserve-unknown-fields object
 * into null and reject it ("spec must be of type object"). An absent spec means the same to the operator.
 */
function dropEmptyOperatorSpec(o: KubeObject): void {
  const { group } = splitApiVersion(o.apiVersion);
  if (group !== 'operator.knative.dev' && group !== 'operator.serverless.openshift.io') return;
  const spec = o.spec;
  if (spec && typeof spec === 'object' && !Array.isArray(spec) && Object.keys(spec).length === 0) delete o.spec;
}

/** Whether every field of `want` is present in `have` with the same value (lists: same length, each element contained). */
export function contains(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  }
  if (!have || typeof have !== 'object' || Array.isArray(have)) return false;
  for (const [k, w] of Object.entries(want)) {
    if (w === undefined) continue;
    if (!contains((have as Record<string, unknown>)[k], w)) return false;
  }
  return true;
}

/**
 * True when re-applying `desired` (a withOwnership body) would change nothing: the live object carries the
 * same applied hash (so we removed no field since) and still holds every field we set (nobody changed them).
 * Either check failing just means we send the PATCH, which is always safe.
 */
export function isUnchanged(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live) return false;
  if (live.metadata.annotations?.[APPLIED_HASH] !== desired.metadata.annotations?.[APPLIED_HASH]) return false;
  if ((live.metadata as { deletionTimestamp?: string }).deletionTimestamp) return false;
  // A list at another served version would compare different field layouts: just re-apply then.
  if (live.apiVersion !== desired.apiVersion) return false;
  return contains(live, desired);
}

/** Label selector for everything this spec owns. */
export function ownedSelector(specName: string): string {
  return `${MANAGED_BY}=${FIELD_MANAGER},${SPEC_LABEL}=${specName}`;
}

export function isOwnedBy(o: { metadata?: { labels?: Record<string, string> } }, specName: string): boolean {
  const l = o.metadata?.labels ?? {};
  return l[MANAGED_BY] === FIELD_MANAGER && l[SPEC_LABEL] === specName;
}

/**
 * Objects to prune: live objects carrying our labels for this spec that the spec no longer renders.
 * Labels are checked again here, so an object without them is never selected whatever the caller passed.
 * Order: reverse phase order (policies go before the things they protect).
 */
export function selectPrune(desired: readonly KubeObject[], live: readonly KubeObject[], specName: string): KubeObject[] {
  const want = new Set(desired.map(objectKey));
  const out = live.filter((o) => isOwnedBy(o, specName) && !want.has(objectKey(o)));
  const rank = (o: KubeObject) => PHASE_ORDER.indexOf(phaseOf(o));
  return out.sort((a, b) => rank(b) - rank(a) || objectKey(a).localeCompare(objectKey(b)));
}

/**
 * Kinds we look at for prune and for the live snapshot: whatever the spec renders now plus every kind
 * a spec can render, so removing the last object of a kind still prunes it.
 */
export const PRUNABLE_KINDS: { apiVersion: string; kind: string }[] = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  ...Object.values(PROFILES).flatMap((p) => p.apply.pruneKinds),
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'Gateway' },
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule' },
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry' },
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService' },
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'Sidecar' },
  { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter' },
  { apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy' },
  { apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication' },
  { apiVersion: 'operator.knative.dev/v1beta1', kind: 'KnativeServing' },
  { apiVersion: 'operator.knative.dev/v1beta1', kind: 'KnativeEventing' },
  { apiVersion: 'operator.serverless.openshift.io/v1alpha1', kind: 'KnativeKafka' },
];

/**
 * Why this apply must not run, when it would move Serverless to another control plane: a control-plane
 * or member-roll object this spec owns that the spec no longer renders (spec.mesh.namespace or
 * spec.mesh.controlPlane changed). Prune would delete the old one, and moving OpenShift Serverless to
 * another mesh is unsupported (seed 001, "Changing the target ServiceMeshMemberRoll … is not supported").
 */
export function controlPlaneMove(desired: readonly KubeObject[], live: Iterable<KubeObject>, specName: string): string | undefined {
  const want = new Set(desired.map(objectKey));
  const isMeshCore = (o: KubeObject) => CONTROL_PLANE_KINDS.has(groupKind(o)) || MEMBERSHIP_KINDS.has(groupKind(o));
  const desiredCore = desired.filter(isMeshCore);
  // The control plane before the member roll: the live map's order depends on which list answered first.
  const moved = [...live].filter((o) => isOwnedBy(o, specName) && isMeshCore(o) && !want.has(objectKey(o)));
  moved.sort((a, b) => Number(MEMBERSHIP_KINDS.has(groupKind(a))) - Number(MEMBERSHIP_KINDS.has(groupKind(b))));
  for (const o of moved) {
    const sameKind = desiredCore.find((d) => groupKind(d) === groupKind(o));
    const from = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    const to = sameKind ? ` to ${sameKind.metadata.namespace ? `${sameKind.metadata.namespace}/` : ''}${sameKind.metadata.name}` : '';
    return (
      `refusing to move OpenShift Serverless from ${from}${to}: changing the mesh it is part of is not supported ` +
      `(uninstall and reinstall, or use "serverless-mesh migrate" for OSSM 2 → 3); restore spec.mesh.namespace / spec.mesh.controlPlane`
    );
  }
  return undefined;
}

/** Distinct (group, kind) pairs to list: desired kinds first (their version), then the catalogue. */
export function kindsToList(desired: readonly KubeObject[]): { apiVersion: string; kind: string }[] {
  const seen = new Map<string, { apiVersion: string; kind: string }>();
  for (const o of [...desired, ...PRUNABLE_KINDS]) {
    const k = `${splitApiVersion(o.apiVersion).group}/${o.kind}`;
    if (!seen.has(k)) seen.set(k, { apiVersion: o.apiVersion, kind: o.kind });
  }
  return [...seen.values()];
}

/** Runs `fn` over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface ReadyState {
  ready: boolean;
  /** `Ready=False (Reason: message); Other=True`, or why nothing is known yet. */
  summary: string;
}

/**
 * Ready means condition Ready=True for the current spec: when the operator reports observedGeneration,
 * it must have caught up with metadata.generation, or a Ready from before our change would count.
 */
export function readyState(o: KubeObject | undefined): ReadyState {
  if (!o) return { ready: false, summary: 'object not found' };
  const status = (o.status ?? {}) as {
    observedGeneration?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
  const conds = status.conditions ?? [];
  const summary = conds.length
    ? conds
        .map((c) => `${c.type}=${c.status}${c.reason || c.message ? ` (${[c.reason, c.message].filter(Boolean).join(': ')})` : ''}`)
        .join('; ')
    : 'no status conditions yet (is the operator running?)';
  const gen = (o.metadata as { generation?: number }).generation;
  if (status.observedGeneration !== undefined && gen !== undefined && status.observedGeneration < gen) {
    return {
      ready: false,
      summary: `operator has not seen generation ${gen} yet (observedGeneration ${status.observedGeneration}); ${summary}`,
    };
  }
  return { ready: conds.some((c) => c.type === 'Ready' && c.status === 'True'), summary };
}

/** `5m`, `90s`, `1h30m`, `250ms` or plain seconds → milliseconds. */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== t.length || consumed === 0) throw new Error(`invalid duration "${s}" (use e.g. 90s, 5m, 1h)`);
  return total;
}

/** What must already run on the cluster before apply writes anything (the flavour's profile.apply). */
export interface ClusterRequirements {
  /** A CRD (`plural.group`) whose API must be served, and who installs it. */
  crd?: { group: string; plural: string; name: string; operator: string };
  /** A Deployment that must exist (upstream Istio: the user's istiod). */
  deployment?: { namespace: string; name: string; why: string };
}

export function clusterRequirements(spec: ServerlessMeshSpec): ClusterRequirements {
  const a = profileFor(spec.mesh.flavor).apply;
  const out: ClusterRequirements = {};
  if (a.requiredCrd) {
    const [plural = '', ...group] = a.requiredCrd.name.split('.');
    out.crd = { group: group.join('.'), plural, name: a.requiredCrd.name, operator: a.requiredCrd.operator };
  }
  if (a.requiredDeployment) {
    out.deployment = { namespace: a.requiredDeployment.namespace(spec), name: a.requiredDeployment.name, why: a.requiredDeployment.why };
  }
  return out;
}
