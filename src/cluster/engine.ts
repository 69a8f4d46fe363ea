// The apply engine as plain data-in/data-out functions: plan, apply one phase, readiness of a set of
// objects, prune. Nothing here sleeps, waits, prints, or picks an exit code; problems the caller can act
// on come back as data (`blocked`, `failed`, `fatal`). The CLI (apply.ts applySteps) wraps these in
// progress steps and waits; the controller (src/controller) calls them once per reconcile.
import { objectRef, type KubeObject } from '../util/kube.ts';
import { UserError } from '../util/errors.ts';
import { ApiError, UnreachableError, type KubeClient } from './client.ts';
import type { Discovery, ResourceInfo } from './discovery.ts';
import { deleteObject, describeError, getObject, listAll, serverSideApply } from './ops.ts';
import {
  type ClusterRequirements,
  type Phase,
  controlPlaneMove,
  isUnchanged,
  kindsToList,
  mapLimit,
  objectKey,
  ownedSelector,
  phaseOf,
  planPhases,
  readyState,
  selectPrune,
  servedLate,
  withOwnership,
} from './plan.ts';

export interface ClusterSession {
  client: KubeClient;
  discovery: Discovery;
}

export interface PlanOptions {
  specName: string;
  dryRun?: boolean;
  /** Apply although the spec's control plane differs from the one it owns (migrate only). */
  allowMeshMove?: boolean;
  requirements?: ClusterRequirements;
  concurrency?: number;
  /** What is live, from an informer cache instead of a list (the controller): see OwnedView. */
  owned?: OwnedView;
}

/**
 * A cache's view of the objects a spec owns. `live` holds stubs (apiVersion, kind, name, namespace,
 * labels): enough for prune and the control-plane check. `isCurrent` answers what isUnchanged answers
 * for a listed object; `applied` records an apply's answer.
 */
export interface OwnedView {
  live: Map<string, KubeObject>;
  isCurrent(desired: KubeObject): boolean;
  applied(desired: KubeObject, after: KubeObject): void;
}

/** Why nothing may be written: `input` (the spec asks for something refused) or `cluster` (the cluster lacks something). */
export interface Blocked {
  kind: 'input' | 'cluster';
  message: string;
}

export interface ApplyPlan {
  specName: string;
  /** Rendered objects with our ownership labels, in render order. */
  bodies: KubeObject[];
  phases: Phase[];
  /** `apiVersion/kind` → resource, for every kind resolved so far. */
  infos: Map<string, ResourceInfo>;
  /** Live objects carrying this spec's labels, by objectKey. */
  live: Map<string, KubeObject>;
  /** Dry run: namespaces that do not exist yet (the server cannot admit objects into them). */
  newNamespaces: Set<string>;
  /** One line: what the cluster serves and how many objects are already owned. */
  summary: string;
  /** Set when nothing may be applied (an unmet requirement, a missing API, a control-plane move). */
  blocked?: Blocked;
  /** Set when `live` came from a cache (PlanOptions.owned): applyPhase asks it instead of comparing bodies. */
  owned?: OwnedView;
}

export const infoKey = (o: Pick<KubeObject, 'apiVersion' | 'kind'>): string => `${o.apiVersion}/${o.kind}`;

/** Reads what apply needs to decide (requirements, APIs, the owned snapshot). Writes nothing. */
export async function planApply(s: ClusterSession, objects: readonly KubeObject[], o: PlanOptions): Promise<ApplyPlan> {
  const concurrency = o.concurrency ?? 32;
  const bodies = objects.map((x) => withOwnership(x, o.specName));
  const plan: ApplyPlan = {
    specName: o.specName,
    bodies,
    phases: planPhases(bodies),
    infos: new Map(),
    live: new Map(),
    newNamespaces: new Set(),
    summary: '',
  };
  if (o.requirements) {
    const problems = await unmetRequirements(s, o.requirements);
    if (problems.length) return { ...plan, blocked: { kind: 'cluster', message: problems.join('\n') } };
  }
  let resolved: Map<string, ResourceInfo>;
  try {
    resolved = await s.discovery.resolveAll(bodies.filter((b) => !servedLate(b)));
  } catch (e) {
    if (e instanceof UserError) return { ...plan, blocked: { kind: 'cluster', message: e.message } };
    throw e;
  }
  if (o.owned) {
    plan.infos = resolved;
    plan.live = o.owned.live;
    plan.owned = o.owned;
  } else {
    const snap = await ownedSnapshot(s, bodies, o.specName, concurrency);
    plan.infos = new Map([...snap.infos, ...resolved]);
    plan.live = snap.live;
  }
  const move = o.allowMeshMove ? undefined : controlPlaneMove(bodies, plan.live.values(), o.specName);
  if (move) return { ...plan, blocked: { kind: 'input', message: move } };
  if (o.dryRun) {
    const nsInfo = plan.infos.get('v1/Namespace');
    await mapLimit(
      bodies.filter((x) => x.kind === 'Namespace' && x.apiVersion === 'v1'),
      concurrency,
      async (b) => {
        if (nsInfo && !(await getObject(s.client, nsInfo, undefined, b.metadata.name))) plan.newNamespaces.add(b.metadata.name);
      },
    );
  }
  const p = await s.discovery.platform();
  const platform = `mesh APIs: ${p.mesh}${p.knativeOperator ? ', Knative operator' : ''}${p.knativeKafka ? ', KnativeKafka' : ''}${p.openshiftRoute ? ', OpenShift Route' : ''}`;
  plan.summary = `${platform}; ${plan.live.size} objects already owned by spec "${o.specName}"`;
  return plan;
}

const DEPLOYMENT: ResourceInfo = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true };

/** One line per unmet requirement (the flavour's operator CRD, the user's istiod). */
async function unmetRequirements(s: ClusterSession, r: ClusterRequirements): Promise<string[]> {
  const problems: string[] = [];
  if (r.crd) {
    const versions = (await s.discovery.apiGroups()).get(r.crd.group) ?? [];
    let served = false;
    for (const v of versions) served ||= await servesPlural(s, r.crd.group, v, r.crd.plural);
    if (!served) problems.push(`CRD ${r.crd.name} is not served by this cluster: install the ${r.crd.operator} first`);
  }
  if (r.deployment) {
    const d = r.deployment;
    if (!(await getObject(s.client, DEPLOYMENT, d.namespace, d.name))) {
      problems.push(
        `Deployment ${d.namespace}/${d.name} not found: ${d.why}; install it first (or set spec.mesh.namespace to where it runs)`,
      );
    }
  }
  return problems;
}

async function servesPlural(s: ClusterSession, group: string, version: string, plural: string): Promise<boolean> {
  try {
    const list = await s.client.request<{ resources: { name: string }[] }>('GET', `/apis/${group}/${version}`);
    return list.resources.some((r) => r.name === plural);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return false;
    throw e;
  }
}

/** Live objects owned by this spec, by objectKey; kinds the cluster does not serve are skipped. */
export async function ownedSnapshot(
  s: ClusterSession,
  desired: readonly KubeObject[],
  specName: string,
  concurrency = 32,
  /** A moment's staleness is harmless (default); false: a consistent read from etcd, paged. */
  fromCache = true,
): Promise<{ live: Map<string, KubeObject>; infos: Map<string, ResourceInfo> }> {
  const live = new Map<string, KubeObject>();
  const infos = new Map<string, ResourceInfo>();
  await mapLimit(kindsToList(desired), concurrency, async (k) => {
    const info = await s.discovery.resolve(k.apiVersion, k.kind);
    if (!info) return;
    infos.set(infoKey(k), info);
    // A moment's staleness is harmless here: a missed change means one extra PATCH or one prune left for next time.
    for (const o of await listAll(s.client, info, ownedSelector(specName), { fromCache })) live.set(objectKey(o), slim(o));
  });
  return { live, infos };
}

/**
 * A live object without metadata.managedFields (often half its size; nothing here reads it): the
 * controller holds the snapshot of every owned object for a whole reconcile.
 */
export function slim(o: KubeObject): KubeObject {
  const meta = o.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  if (!meta.managedFields) return o;
  const { managedFields: _drop, ...rest } = meta;
  return { ...o, metadata: rest };
}

export interface FailedObject {
  ref: string;
  error: string;
  /** A server-side apply conflict with another field manager (not forced). */
  conflict?: boolean;
  /** The field managers a conflict names. */
  managers?: string[];
}

/** Field managers named by an apply conflict (409). */
export function conflictManagers(e: ApiError): string[] {
  const out = new Set<string>();
  for (const c of e.status.details?.causes ?? []) {
    const m = /conflict with "([^"]+)"/.exec(c.message ?? '');
    if (m) out.add(m[1]!);
  }
  for (const m of (e.status.message ?? '').matchAll(/conflicts? with "([^"]+)"/g)) out.add(m[1]!);
  return [...out];
}

export interface PhaseResult {
  applied: string[];
  unchanged: string[];
  /** Dry run: objects whose namespace only this apply would create. */
  unverified: string[];
  failed: FailedObject[];
  /** Objects not attempted because the run stopped (unreachable, 401). */
  notAttempted: string[];
  /** Set when the cluster went away or rejected our credentials: stop the run. */
  fatal?: string;
}

export interface ApplyPhaseOptions {
  dryRun?: boolean;
  force?: boolean;
  concurrency?: number;
  /** Skip the PATCH when the live object already has every field (off for the controller: SSA re-asserts ownership). */
  skipUnchanged?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Server-side applies one phase's objects (bounded parallel). Failures are returned, not thrown. */
export async function applyPhase(s: ClusterSession, plan: ApplyPlan, phase: Phase, o: ApplyPhaseOptions = {}): Promise<PhaseResult> {
  const res: PhaseResult = { applied: [], unchanged: [], unverified: [], failed: [], notAttempted: [] };
  for (const b of phase.objects) {
    if (plan.infos.has(infoKey(b))) continue;
    const info = await s.discovery.resolve(b.apiVersion, b.kind);
    if (info) plan.infos.set(infoKey(b), info);
    else {
      try {
        await s.discovery.resolveAll([b]); // the "install operator X" message
      } catch (e) {
        res.fatal ??= e instanceof Error ? e.message : String(e);
      }
    }
  }
  if (res.fatal) {
    res.notAttempted = phase.objects.map(objectRef);
    return res;
  }
  const skipUnchanged = o.skipUnchanged ?? true;
  let done = 0;
  await mapLimit(phase.objects, o.concurrency ?? 32, async (b) => {
    const ref = objectRef(b);
    if (res.fatal) {
      res.notAttempted.push(ref);
      return;
    }
    const info = plan.infos.get(infoKey(b))!;
    try {
      const current =
        !o.dryRun && !o.force && skipUnchanged && (plan.owned ? plan.owned.isCurrent(b) : isUnchanged(b, plan.live.get(objectKey(b))));
      if (current) res.unchanged.push(ref);
      else {
        const after = await serverSideApply(s.client, info, b, { dryRun: o.dryRun, force: o.force });
        // The snapshot follows what we wrote: verify reads it afterwards instead of listing everything again.
        // A cache records a compact entry instead (18,000 answers held as objects are ~100 MB).
        if (!o.dryRun && plan.owned) plan.owned.applied(b, after);
        else if (!o.dryRun) plan.live.set(objectKey(b), slim({ ...after, apiVersion: b.apiVersion, kind: b.kind }));
        res.applied.push(ref);
      }
    } catch (e) {
      if (o.dryRun && e instanceof ApiError && e.code === 404 && b.metadata.namespace && plan.newNamespaces.has(b.metadata.namespace)) {
        res.unverified.push(ref);
        return;
      }
      const conflict = e instanceof ApiError && e.code === 409;
      res.failed.push({ ref, error: describeError(e, 'patch', info, b), ...(conflict ? { conflict, managers: conflictManagers(e) } : {}) });
      if (e instanceof UnreachableError || (e instanceof ApiError && e.code === 401)) res.fatal ??= describeError(e, 'patch', info);
    }
    done++;
    o.onProgress?.(done, phase.objects.length);
  });
  return res;
}

export interface Readiness {
  ready: string[];
  /** Not Ready yet (the operator is working, or has not seen this generation). */
  pending: { ref: string; reason: string }[];
  /** Ready=False with a reason the operator reports as final (…Failed, Error), or the object is gone. */
  failed: { ref: string; reason: string }[];
}

/** One look at the Ready condition of each object; no waiting. */
export async function readiness(
  s: ClusterSession,
  infos: ReadonlyMap<string, ResourceInfo>,
  objects: readonly KubeObject[],
  concurrency = 32,
): Promise<Readiness> {
  const out: Readiness = { ready: [], pending: [], failed: [] };
  await mapLimit(objects, concurrency, async (o) => {
    const info = infos.get(infoKey(o)) ?? (await s.discovery.resolve(o.apiVersion, o.kind));
    const ref = objectRef(o);
    if (!info) {
      out.failed.push({ ref, reason: `${o.kind} (${o.apiVersion}) is not served by this cluster` });
      return;
    }
    const live = await getObject(s.client, info, o.metadata.namespace, o.metadata.name);
    const st = readyState(live);
    if (st.ready) out.ready.push(ref);
    else if (live && isFailedState(live)) out.failed.push({ ref, reason: st.summary });
    else out.pending.push({ ref, reason: st.summary });
  });
  return out;
}

/** Ready=False whose reason says the operator gave up (not "Installing" / "Progressing"). */
export function isFailedState(o: KubeObject): boolean {
  const conds = ((o.status ?? {}) as { conditions?: { type?: string; status?: string; reason?: string }[] }).conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready');
  return ready?.status === 'False' && /fail|error|invalid/i.test(ready.reason ?? '');
}

/**
 * What releasing a namespace sends: an apply of the bare namespace by our field manager, which drops
 * every field we owned (our labels and annotations, injection and tenant labels) and keeps the rest.
 * `diff` previews it with the same body as a dry run.
 */
export function releaseBody(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export interface PruneResult {
  pruned: string[];
  released: string[];
  failed: FailedObject[];
}

/** Objects owned by the spec that it no longer renders (plan.live minus plan.bodies). */
export function pruneCandidates(plan: ApplyPlan): KubeObject[] {
  return selectPrune(plan.bodies, [...plan.live.values()], plan.specName);
}

/** Deletes (or, for namespaces unless deleteNamespaces, releases) objects, phase by phase. */
export async function pruneObjects(
  s: ClusterSession,
  victims: readonly KubeObject[],
  infos: ReadonlyMap<string, ResourceInfo>,
  o: { deleteNamespaces?: boolean; concurrency?: number } = {},
): Promise<PruneResult> {
  const out: PruneResult = { pruned: [], released: [], failed: [] };
  // Same-phase objects go in parallel; phases one after another (policies before what they protect).
  const groups = new Map<string, KubeObject[]>();
  for (const v of victims) groups.set(phaseOf(v), [...(groups.get(phaseOf(v)) ?? []), v]);
  for (const group of groups.values()) {
    await mapLimit(group, o.concurrency ?? 32, async (v) => {
      const info = infos.get(infoKey(v)) ?? (await s.discovery.resolve(v.apiVersion, v.kind));
      if (!info) return;
      try {
        if (v.kind === 'Namespace' && v.apiVersion === 'v1' && !o.deleteNamespaces) {
          // A namespace holds things we never created (tenant workloads): give it back instead of deleting.
          await serverSideApply(s.client, info, releaseBody(v.metadata.name));
          out.released.push(objectRef(v));
        } else {
          await deleteObject(s.client, info, v.metadata.namespace, v.metadata.name);
          out.pruned.push(objectRef(v));
        }
      } catch (e) {
        out.failed.push({ ref: objectRef(v), error: describeError(e, 'delete', info, v) });
      }
    });
  }
  return out;
}
