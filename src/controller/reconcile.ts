// One level-triggered, idempotent reconcile of a ServerlessMesh CR: read the CR, render, apply phase by
// phase, prune, look at readiness and verify, write status. It never sleeps: it returns when to look
// again (requeueAfterMs) or an error (the queue backs off). Running it twice in a row writes nothing
// the second time.
import { createHash } from 'node:crypto';
import { modelFromObjects, specModelOptions } from '../authz/knative.ts';
import { verifyModel } from '../authz/verify.ts';
import { ApiError } from '../cluster/client.ts';
import {
  type ApplyPlan,
  type ClusterSession,
  type OwnedView,
  applyPhase,
  ownedSnapshot,
  planApply,
  pruneCandidates,
  pruneObjects,
  readiness,
} from '../cluster/engine.ts';
import { getObject, listAll, resourcePath } from '../cluster/ops.ts';
import {
  PRUNABLE_KINDS,
  SPEC_LABEL,
  clusterRequirements,
  hasReadyCondition,
  isKnativeServing,
  APPLIED_HASH,
  canonicalJson,
  kindsToList,
  mapLimit,
  objectKey,
  selectPrune,
} from '../cluster/plan.ts';
import { tlsForApply } from '../cluster/session.ts';
import { render } from '../render/index.ts';
import type { TlsMaterial } from '../render/tls-secret.ts';
import type { ServerlessMesh } from '../api/types.ts';
import { objectRef, type KubeObject } from '../util/kube.ts';
import { CR_RESOURCE } from './crd.ts';
import { contentDigest, type OwnedCache } from './owned-cache.ts';
import { specFromCr } from './spec.ts';

export const FINALIZER = 'serverlessmesh.dev/cleanup';
/** Field managers whose edits are drift to correct (a person with kubectl), not another controller's fields. */
export const HAND_EDIT_MANAGERS = [
  'kubectl-edit',
  'kubectl-patch',
  'kubectl-client-side-apply',
  'kubectl-label',
  'kubectl-annotate',
  'kubectl-set',
  'kubectl',
];

/** Kinds whose objects decide who may reach whom: verify reads all of them, not only ours. */
export const POLICY_KINDS = PRUNABLE_KINDS.filter(
  (k, i, all) =>
    k.apiVersion.startsWith('security.istio.io/') &&
    (k.kind === 'AuthorizationPolicy' || k.kind === 'PeerAuthentication') &&
    all.findIndex((x) => x.kind === k.kind && x.apiVersion.startsWith('security.istio.io/')) === i,
);

/**
 * Policies in the cluster that this CR does not own (hand-made, another tool's): Istio enforces every
 * policy of a namespace and of the root namespace regardless of who wrote it
 * (https://istio.io/latest/docs/reference/config/security/authorization-policy/), so a hand-made ALLOW
 * can open a path between tenants that our own objects close.
 */
async function foreignPolicies(ctx: ReconcileContext, name: string): Promise<KubeObject[]> {
  const out: KubeObject[][] = await mapLimit(POLICY_KINDS, 2, async (k) => {
    const info = await ctx.s.discovery.resolve(k.apiVersion, k.kind);
    return info ? listAll(ctx.s.client, info, `${SPEC_LABEL}!=${name}`, { fromCache: true }) : [];
  });
  return out.flat();
}

export interface Condition {
  type: 'Ready' | 'Progressing' | 'Degraded' | 'Verified';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface CrStatus {
  observedGeneration?: number;
  conditions: Condition[];
  applied: number;
  pending: number;
  objects: number;
  conflicts: string[];
}

export interface ReconcileResult {
  requeueAfterMs?: number;
  /** An error the queue retries with backoff (status says what it is when it could be written). */
  error?: string;
  status?: CrStatus;
  /** verify's answer was reused (its inputs did not change). */
  verifyCached?: boolean;
  /** Answered from the cache without rendering (fromMemory): nothing had changed. */
  fromMemory?: boolean;
}

export interface EventSink {
  (cr: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface ReconcileContext {
  s: ClusterSession;
  event: EventSink;
  concurrency?: number;
  /** Requeue while something is not Ready yet. */
  pendingRequeueMs?: number;
  /** Requeue after a blocked apply (missing operator). */
  blockedRequeueMs?: number;
  handEditManagers?: readonly string[];
  /** Per CR: the last verify's inputs (hash) and its condition, reused while the inputs are the same. */
  verifyCache?: Map<string, { fingerprint: string; condition: Condition }>;
  /** Informer cache of our objects (run.ts): a reconcile reads what is live from it instead of listing. */
  cache?: OwnedCache;
  /** Digests of the policies we do not own (verify's other input), from their watch. */
  foreign?: OwnedCache;
  /** Per CR: what the last complete pass rendered, as keys and applied hashes (see fromMemory). */
  desired?: Map<string, DesiredIndex>;
}

/** What a spec renders, without the objects: enough to tell from the cache that all of it is in place. */
export interface DesiredIndex {
  /** Digest of the render's inputs (the spec with defaults, the TLS material). */
  inputs: string;
  kinds: { apiVersion: string; kind: string }[];
  objects: Map<string, { apiVersion: string; hash: string }>;
  /** The rendered objects whose Ready condition counts (a control plane, the Knative CRs): a handful. */
  ready: KubeObject[];
}

const inputsDigest = (mesh: ServerlessMesh, tls: TlsMaterial | undefined): string =>
  createHash('sha256')
    .update(canonicalJson(mesh))
    .update('\n')
    .update(tls ? `${tls.certPem}\n${tls.keyPem}` : '')
    .digest('hex');

/**
 * The pass of a resync when nothing changed: every object the spec renders is known to the cache to be in
 * place at its current resourceVersion, nothing else carries the spec's label, and verify's inputs are
 * what was verified. Then render, plan and apply are skipped (at 18,000 objects they cost a second and
 * ~80 MB of garbage each resync); readiness is still looked at and status written if it changed.
 * Anything else (undefined) takes the full pass.
 */
async function fromMemory(
  ctx: ReconcileContext,
  cr: KubeObject,
  name: string,
  mesh: ServerlessMesh,
  tls: TlsMaterial | undefined,
): Promise<ReconcileResult | undefined> {
  const idx = ctx.desired?.get(name);
  const { cache, foreign } = ctx;
  if (!idx || !cache || !foreign || idx.inputs !== inputsDigest(mesh, tls)) return undefined;
  if (!(await cache.ensure(idx.kinds)) || !(await foreign.ensure(POLICY_KINDS))) return undefined;
  for (const [key, want] of idx.objects) if (!cache.matches(key, want.apiVersion, want.hash)) return undefined;
  if (cache.countFor(name) !== idx.objects.size) return undefined; // something to prune
  const cached = ctx.verifyCache?.get(name);
  if (!cached || cached.fingerprint !== cachedFingerprint(cache, foreign, idx.objects.keys(), name, specModelOptions(mesh)))
    return undefined;
  const rd = await readiness(ctx.s, new Map(), idx.ready);
  const out = await conclude(ctx, cr, {
    observedGeneration: (cr.metadata as { generation?: number }).generation,
    objects: idx.objects.size,
    reached: idx.objects.size,
    failures: [],
    conflicts: [],
    notReady: [...rd.pending, ...rd.failed],
    verified: cached.condition,
    verifyCached: true,
  });
  return { ...out, fromMemory: true };
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, '; ');

/** verify's inputs as one hash: the options, then objectKey and content digest of each object (owned, then others'). */
function fingerprint(opts: unknown, owned: Iterable<[string, string]>, foreign: Iterable<[string, string]>): string {
  const h = createHash('sha256').update(JSON.stringify(opts));
  for (const part of [owned, foreign]) {
    h.update('\n--\n');
    for (const line of [...part].map(([k, d]) => `${k} ${d}`).sort()) h.update(line).update('\n');
  }
  return h.digest('hex');
}

const POLICY_GROUP_KINDS = new Set(POLICY_KINDS.map((k) => `${k.apiVersion.split('/')[0]}/${k.kind}`));

/** The fingerprint from the caches alone: our rendered objects' digests, and every policy not of this spec. */
function cachedFingerprint(cache: OwnedCache, foreign: OwnedCache, keys: Iterable<string>, name: string, opts: unknown): string {
  const owned: [string, string][] = [...keys].map((k) => [k, cache.digest(k) ?? 'absent']);
  const others = [...foreign.digests(), ...cache.digests((gk, spec) => spec !== name && POLICY_GROUP_KINDS.has(gk))];
  return fingerprint(opts, owned, others);
}

/**
 * What verify reads: our objects as live (prune succeeded, so what we own is exactly what we render) and
 * the policies of others. Without the cache the plan's snapshot (updated by every apply's answer) is it.
 */
async function verifyInputs(
  ctx: ReconcileContext,
  plan: ApplyPlan,
  name: string,
  fromCache: boolean,
): Promise<{ owned: KubeObject[]; foreign: KubeObject[] }> {
  // With the cache the apply answers were not kept: list, consistently from etcd (the watch cache may
  // not have this pass's writes yet, and what is verified must be what is live). Asking the watch cache
  // for "not older than" the current revision does not work on the 1.20 test apiserver: a kind's watch
  // cache only advances with that kind's events, so a quiet kind answers 504 "Too large resource version".
  const live = fromCache ? (await ownedSnapshot(ctx.s, plan.bodies, name, ctx.concurrency, false)).live : plan.live;
  const owned: KubeObject[] = [];
  for (const b of plan.bodies) {
    const l = live.get(objectKey(b));
    if (l) owned.push(l);
  }
  const ownedKeys = new Set(owned.map(objectKey));
  return { owned, foreign: (await foreignPolicies(ctx, name)).filter((o) => !ownedKeys.has(objectKey(o))) };
}

export async function reconcile(ctx: ReconcileContext, name: string): Promise<ReconcileResult> {
  const { s } = ctx;
  const cr = await getObject(s.client, CR_RESOURCE, undefined, name);
  if (!cr) return {};
  const meta = cr.metadata as KubeObject['metadata'] & {
    generation?: number;
    deletionTimestamp?: string;
    finalizers?: string[];
    resourceVersion?: string;
  };
  const gen = meta.generation;
  if (meta.deletionTimestamp) return finalize(ctx, cr);
  if (!(meta.finalizers ?? []).includes(FINALIZER)) {
    await s.client.request('PATCH', resourcePath(CR_RESOURCE, undefined, name), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { finalizers: [...(meta.finalizers ?? []), FINALIZER], resourceVersion: meta.resourceVersion } },
    });
  }
  const spec = specFromCr(cr);
  if (!spec.ok) {
    const msg = spec.errors.join('; ');
    return finish(ctx, cr, {
      observedGeneration: gen,
      conditions: [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: msg },
        { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: 'nothing is applied until the spec is fixed' },
        { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: msg },
      ],
      applied: 0,
      pending: 0,
      objects: 0,
      conflicts: [],
    });
  }
  const mesh = spec.mesh;
  const tls = await tlsForApply(s, mesh);
  const quick = await fromMemory(ctx, cr, name, mesh, tls);
  if (quick) return quick;
  const objects = render(mesh, tls ? { tls } : {});
  // The cache stands in for the list once it watches every kind we render at the version we render it.
  const cache = ctx.cache && (await ctx.cache.ensure(kindsToList(objects))) ? ctx.cache : undefined;
  const owned: OwnedView | undefined = cache && {
    live: cache.owned(name),
    isCurrent: (b) => cache.isCurrent(b),
    applied: (b, after) => cache.applied(b, after),
  };
  const plan = await planApply(s, objects, {
    specName: name,
    requirements: clusterRequirements(mesh.spec),
    concurrency: ctx.concurrency,
    ...(owned ? { owned } : {}),
  });
  const base = { observedGeneration: gen, objects: objects.length };
  if (plan.blocked) {
    const reason = plan.blocked.kind === 'input' ? 'Refused' : 'MissingPrerequisite';
    const msg = oneLine(plan.blocked.message);
    return finish(
      ctx,
      cr,
      {
        ...base,
        conditions: [
          { type: 'Ready', status: 'False', reason, message: msg },
          { type: 'Progressing', status: 'False', reason, message: msg },
          { type: 'Degraded', status: 'True', reason, message: msg },
        ],
        applied: 0,
        pending: objects.length,
        conflicts: [],
      },
      ctx.blockedRequeueMs ?? 30_000,
    );
  }

  const handEdits = new Set(ctx.handEditManagers ?? HAND_EDIT_MANAGERS);
  let reached = 0;
  const failures: string[] = [];
  const conflicts: string[] = [];
  let waitingFor: string | undefined;
  for (const phase of plan.phases) {
    if (phase.id === 'policies') {
      const ks = plan.bodies.filter(isKnativeServing);
      if (ks.length) {
        const r = await readiness(s, plan.infos, ks);
        if (r.ready.length < ks.length) {
          waitingFor = `${ks.map((k) => `${k.kind}/${k.metadata.namespace}/${k.metadata.name}`).join(', ')} to be Ready before AuthorizationPolicies (${[...r.pending, ...r.failed].map((p) => p.reason).join('; ')})`;
          break;
        }
      }
    }
    const res = await applyPhase(s, plan, phase, { concurrency: ctx.concurrency });
    if (res.fatal) return { error: res.fatal };
    reached += res.applied.length + res.unchanged.length;
    const byRef = new Map(phase.objects.map((o) => [objectRef(o), o]));
    for (const f of res.failed) {
      // A hand edit of a field we own is drift: take it back. Another controller's field is reported, not fought over.
      if (f.conflict && f.managers?.length && f.managers.every((m) => handEdits.has(m))) {
        const one = byRef.get(f.ref);
        const again = one ? await applyPhase(s, plan, { ...phase, objects: [one] }, { force: true }) : undefined;
        if (again && !again.failed.length) {
          reached++;
          await ctx.event(cr, 'Normal', 'DriftCorrected', `${f.ref}: restored fields changed by ${f.managers.join(', ')}`);
          continue;
        }
      }
      (f.conflict ? conflicts : failures).push(
        f.conflict ? f.error.replace(/; re-run with --force-conflicts to take these fields over$/, '') : f.error,
      );
    }
    if (failures.length) break;
  }
  if (!waitingFor && !failures.length) {
    const victims = pruneCandidates(plan);
    const r = await pruneObjects(s, victims, plan.infos, { concurrency: ctx.concurrency });
    // Not offered for prune again before the watch reports them gone (or, released namespaces, unlabelled).
    const gone = new Set([...r.pruned, ...r.released]);
    for (const v of victims) if (gone.has(objectRef(v))) cache?.deleted(v);
    failures.push(...r.failed.map((f) => f.error));
    if (r.pruned.length + r.released.length)
      await ctx.event(
        cr,
        'Normal',
        'Pruned',
        `${r.pruned.length} deleted, ${r.released.length} namespaces released: objects the spec no longer renders`,
      );
  }
  const withReady = plan.bodies.filter(hasReadyCondition);
  const rd = await readiness(s, plan.infos, withReady);
  const notReady = [...rd.pending, ...rd.failed];

  // Verify what is live (labelled ours): a cluster whose policies let tenants reach each other is not Ready.
  let verified: Condition;
  let verifyCached = false;
  if (!waitingFor && !failures.length) {
    const opts = specModelOptions(mesh);
    // verify is a pure function of these objects' content and the options: when none changed (a no-op
    // resync, an owned object deleted and restored as it was) the last answer stands. At 1,000 tenants a
    // verify costs seconds and ~150 MB of heap (bench/controller). With the cache the fingerprint comes
    // from its digests, and the objects are listed only when it changed.
    const cached = ctx.verifyCache?.get(name);
    let fp =
      cache && ctx.foreign && (await ctx.foreign.ensure(POLICY_KINDS))
        ? cachedFingerprint(
            cache,
            ctx.foreign,
            plan.bodies.map((b) => objectKey(b)),
            name,
            opts,
          )
        : undefined;
    verifyCached = fp !== undefined && cached?.fingerprint === fp;
    let condition = cached?.condition;
    if (!verifyCached) {
      const live = await verifyInputs(ctx, plan, name, !!cache);
      fp = fingerprint(
        opts,
        live.owned.map((o) => [objectKey(o), contentDigest(o)]),
        live.foreign.map((o) => [objectKey(o), contentDigest(o)]),
      );
      verifyCached = cached?.fingerprint === fp;
      if (!verifyCached) {
        const rep = verifyModel(modelFromObjects([...live.owned, ...live.foreign], opts), { expandRows: false });
        condition = rep.violations
          ? {
              type: 'Verified',
              status: 'False',
              reason: 'IsolationViolated',
              message: oneLine(
                `${rep.violations} path(s) break tenant isolation or a required edge: ${rep.surprises.slice(0, 3).join('; ')}`,
              ),
            }
          : { type: 'Verified', status: 'True', reason: 'Isolated', message: `${rep.stats.targets} target(s) checked on every path` };
        ctx.verifyCache?.set(name, { fingerprint: fp, condition });
      }
    }
    verified = condition!;
  } else verified = { type: 'Verified', status: 'Unknown', reason: 'NotApplied', message: 'verified once everything is applied' };

  // Everything is in place: the next pass may answer from memory (fromMemory) while nothing changes.
  if (cache && !failures.length && !conflicts.length && !waitingFor) {
    ctx.desired?.set(name, {
      inputs: inputsDigest(mesh, tls),
      kinds: kindsToList(objects),
      objects: new Map(
        plan.bodies.map((b) => [objectKey(b), { apiVersion: b.apiVersion, hash: b.metadata.annotations?.[APPLIED_HASH] ?? '' }]),
      ),
      ready: withReady,
    });
  } else ctx.desired?.delete(name);
  return conclude(ctx, cr, { ...base, reached, failures, conflicts, waitingFor, notReady, verified, verifyCached });
}

interface Outcome {
  observedGeneration?: number;
  objects: number;
  /** Objects in place (applied now or already). */
  reached: number;
  failures: string[];
  conflicts: string[];
  waitingFor?: string;
  notReady: { ref: string; reason: string }[];
  verified: Condition;
  verifyCached: boolean;
}

/** Conditions from what a pass found, the status write, the requeue. */
async function conclude(ctx: ReconcileContext, cr: KubeObject, o: Outcome): Promise<ReconcileResult> {
  const { failures, conflicts, waitingFor, notReady, verified } = o;
  let ready: Condition;
  let progressing: Condition;
  let degraded: Condition;
  if (failures.length) {
    const msg = oneLine(failures.slice(0, 3).join('; ') + (failures.length > 3 ? `; … ${failures.length - 3} more` : ''));
    ready = { type: 'Ready', status: 'False', reason: 'ApplyFailed', message: msg };
    progressing = { type: 'Progressing', status: 'False', reason: 'ApplyFailed', message: msg };
    degraded = { type: 'Degraded', status: 'True', reason: 'ApplyFailed', message: msg };
  } else if (conflicts.length) {
    const msg = oneLine(conflicts.join('; '));
    ready = { type: 'Ready', status: 'False', reason: 'Conflict', message: msg };
    progressing = { type: 'Progressing', status: 'False', reason: 'Conflict', message: 'fields another manager owns are not taken over' };
    degraded = { type: 'Degraded', status: 'True', reason: 'Conflict', message: msg };
  } else if (waitingFor || notReady.length) {
    const msg = waitingFor ? `waiting for ${waitingFor}` : `waiting for ${notReady.map((n) => `${n.ref} (${n.reason})`).join(', ')}`;
    ready = { type: 'Ready', status: 'False', reason: 'Progressing', message: oneLine(msg) };
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: waitingFor ? 'WaitingForKnativeServing' : 'WaitingForReady',
      message: oneLine(msg),
    };
    degraded = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' };
  } else if (verified.status === 'False') {
    ready = { type: 'Ready', status: 'False', reason: verified.reason, message: verified.message };
    progressing = { type: 'Progressing', status: 'False', reason: 'Applied', message: `${o.objects} objects applied` };
    degraded = { type: 'Degraded', status: 'True', reason: verified.reason, message: verified.message };
  } else {
    ready = { type: 'Ready', status: 'True', reason: 'Reconciled', message: `${o.objects} objects applied and Ready` };
    progressing = { type: 'Progressing', status: 'False', reason: 'Reconciled', message: '' };
    degraded = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' };
  }
  const status: CrStatus = {
    observedGeneration: o.observedGeneration,
    objects: o.objects,
    conditions: [ready, progressing, degraded, verified],
    applied: o.reached,
    pending: o.objects - o.reached + notReady.length,
    conflicts,
  };
  const again = failures.length ? undefined : waitingFor || notReady.length ? (ctx.pendingRequeueMs ?? 5000) : undefined;
  const out = { ...(await finish(ctx, cr, status, again)), verifyCached: o.verifyCached };
  return failures.length ? { ...out, error: failures[0] } : out;
}

/** CR deleted: remove every object labelled for it (namespaces released, as `delete` does), then the finalizer. */
async function finalize(ctx: ReconcileContext, cr: KubeObject): Promise<ReconcileResult> {
  const { s } = ctx;
  const meta = cr.metadata as KubeObject['metadata'] & { finalizers?: string[]; resourceVersion?: string };
  if (!(meta.finalizers ?? []).includes(FINALIZER)) return {};
  const spec = specFromCr(cr);
  // An invalid spec still cleans up: the kinds any spec can render are listed (plan.ts PRUNABLE_KINDS).
  const objects = spec.ok ? render(spec.mesh, spec.mesh.spec.tls.generate ? { tls: { certPem: '', keyPem: '' } } : {}) : [];
  const snap = await ownedSnapshot(s, objects, cr.metadata.name, ctx.concurrency);
  const victims = selectPrune([], [...snap.live.values()], cr.metadata.name);
  const r = await pruneObjects(s, victims, snap.infos, { concurrency: ctx.concurrency });
  if (r.failed.length) return { error: `cleanup of ${cr.metadata.name}: ${r.failed[0]!.error}` };
  await ctx.event(cr, 'Normal', 'CleanedUp', `${r.pruned.length} deleted, ${r.released.length} namespaces released`);
  try {
    await s.client.request('PATCH', resourcePath(CR_RESOURCE, undefined, cr.metadata.name), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { finalizers: (meta.finalizers ?? []).filter((f) => f !== FINALIZER), resourceVersion: meta.resourceVersion } },
    });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  return {};
}

// Field by field in a fixed order: the apiserver returns a CR's JSON with keys sorted, so comparing
// serialisations of the objects as built here would differ every time and write status on every resync.
const comparable = (c: Condition[]) =>
  JSON.stringify(c.map((x) => [x.type, x.status, x.reason, x.message ?? '', x.observedGeneration ?? null]));

/** Writes status when it changed (lastTransitionTime kept unless the condition's status flipped); an Event when Ready's reason changes. */
async function finish(ctx: ReconcileContext, cr: KubeObject, status: CrStatus, requeueAfterMs?: number): Promise<ReconcileResult> {
  const prev = (cr.status ?? {}) as Partial<CrStatus>;
  const prevConds = prev.conditions ?? [];
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  status.conditions = status.conditions.map((c) => {
    const p = prevConds.find((x) => x.type === c.type);
    // No empty strings: Kubernetes 1.20 stores "" as null and then rejects it against the schema.
    const { message, ...rest } = c;
    return {
      ...rest,
      ...(message ? { message } : {}),
      observedGeneration: status.observedGeneration,
      lastTransitionTime: p && p.status === c.status && p.lastTransitionTime ? p.lastTransitionTime : now,
    };
  });
  const same =
    prev.observedGeneration === status.observedGeneration &&
    comparable(prevConds) === comparable(status.conditions) &&
    prev.applied === status.applied &&
    prev.pending === status.pending &&
    prev.objects === status.objects &&
    JSON.stringify(prev.conflicts ?? []) === JSON.stringify(status.conflicts);
  if (!same) {
    await ctx.s.client.request('PATCH', `${resourcePath(CR_RESOURCE, undefined, cr.metadata.name)}/status`, {
      contentType: 'application/merge-patch+json',
      body: { status },
    });
  }
  const ready = status.conditions[0]!;
  const prevReady = prevConds.find((c) => c.type === 'Ready');
  if (!prevReady || prevReady.reason !== ready.reason || prevReady.status !== ready.status) {
    await ctx.event(
      cr,
      ready.status === 'True' || ready.reason === 'Progressing' ? 'Normal' : 'Warning',
      ready.reason,
      ready.message || ready.reason,
    );
  }
  return { status, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}
