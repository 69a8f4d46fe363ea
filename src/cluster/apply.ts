// The apply / delete engine: ordered phases, bounded parallelism, readiness waits, prune.
import { ClusterError, UserError } from '../util/errors.ts';
import { objectRef, type KubeObject } from '../util/kube.ts';
import { ApiError, UnreachableError, sleep, type KubeClient } from './client.ts';
import type { Discovery, ResourceInfo } from './discovery.ts';
import { deleteObject, describeError, getObject, listAll, serverSideApply } from './ops.ts';
import {
  type ClusterRequirements,
  hasReadyCondition,
  isKnativeServing,
  isUnchanged,
  controlPlaneMove,
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
import type { Step } from './progress.ts';

export interface ClusterSession {
  client: KubeClient;
  discovery: Discovery;
}

export interface ApplyOptions {
  specName: string;
  dryRun?: boolean;
  force?: boolean;
  /** --wait: also wait for the control plane and every Knative CR to be Ready. */
  wait?: boolean;
  /** Deadline for each readiness wait (the KnativeServing wait before policies always happens). */
  waitTimeoutMs?: number;
  prune?: boolean;
  /**
   * Apply although the spec's control plane differs from the one it owns (see controlPlaneMove). Only
   * `migrate` sets it: it moves to the new control plane on purpose and removes the old one itself, last.
   */
  allowMeshMove?: boolean;
  concurrency?: number;
  /** Poll interval for readiness (tests shorten it). */
  pollMs?: number;
  /** Checked before anything is written (plan.ts clusterRequirements: the flavour's profile). */
  requirements?: ClusterRequirements;
}

const DEPLOYMENT: ResourceInfo = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true };

/** One line per unmet requirement; throws before the first write (exit 3, like a missing API). */
async function checkRequirements(s: ClusterSession, r: ClusterRequirements): Promise<void> {
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
      problems.push(`Deployment ${d.namespace}/${d.name} not found: ${d.why}; install it first (or set spec.mesh.namespace to where it runs)`);
    }
  }
  if (problems.length) throw new UserError(problems.join('\n'), 3);
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

export interface Outcome {
  applied: string[];
  unchanged: string[];
  pruned: string[];
  released: string[];
  failed: { ref: string; error: string }[];
  notApplied: string[];
  /** Dry run only: objects the server could not check because their namespace is created by this apply. */
  unverified: string[];
  /** Set when the run stopped early (unreachable, wait timeout); a one-line reason. */
  aborted?: string;
}

export function emptyOutcome(): Outcome {
  return { applied: [], unchanged: [], pruned: [], released: [], failed: [], notApplied: [], unverified: [] };
}

/** Live objects owned by this spec, by objectKey; kinds the cluster does not serve are skipped. */
async function ownedSnapshot(s: ClusterSession, desired: readonly KubeObject[], specName: string, concurrency: number): Promise<{ live: Map<string, KubeObject>; infos: Map<string, ResourceInfo> }> {
  const live = new Map<string, KubeObject>();
  const infos = new Map<string, ResourceInfo>();
  await mapLimit(kindsToList(desired), concurrency, async (k) => {
    const info = await s.discovery.resolve(k.apiVersion, k.kind);
    if (!info) return;
    infos.set(`${k.apiVersion}/${k.kind}`, info);
    // A moment's staleness is harmless here: a missed change means one extra PATCH or one prune left for next time.
    for (const o of await listAll(s.client, info, ownedSelector(specName), { fromCache: true })) live.set(objectKey(o), o);
  });
  return { live, infos };
}

async function waitReady(s: ClusterSession, infos: Map<string, ResourceInfo>, objects: KubeObject[], timeoutMs: number, pollMs: number, setOutput: (t: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Map(objects.map((o) => [objectKey(o), o]));
  let last: Map<string, string>;
  let interval = Math.min(100, pollMs); // operators often finish within a second: look early, then back off
  while (pending.size) {
    const states = await Promise.all(
      [...pending.values()].map(async (o) => ({ o, st: readyState(await getObject(s.client, infos.get(`${o.apiVersion}/${o.kind}`)!, o.metadata.namespace, o.metadata.name)) })),
    );
    last = new Map();
    for (const { o, st } of states) {
      if (st.ready) pending.delete(objectKey(o));
      else last.set(objectRef(o), st.summary);
    }
    if (!pending.size) return;
    setOutput(`waiting for ${[...last].map(([r, sum]) => `${r} (${sum})`).join(', ')}`);
    if (Date.now() >= deadline) {
      const detail = [...last].map(([r, sum]) => `${r}: ${sum}`).join(' | ');
      throw new WaitTimeout(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for Ready: ${detail}`);
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
    interval = Math.min(pollMs, interval * 1.5);
  }
}

class WaitTimeout extends Error {}

/**
 * Builds the ordered steps of an apply. `objects` are rendered objects (without our labels). The steps
 * fill `out`; the caller runs them (progress.ts) and then reports `out`.
 */
export function applySteps(s: ClusterSession, objects: readonly KubeObject[], o: ApplyOptions, out: Outcome): { steps: Step[]; finish: () => void } {
  const concurrency = o.concurrency ?? 32;
  const pollMs = o.pollMs ?? 1000;
  const timeoutMs = o.waitTimeoutMs ?? 10 * 60_000;
  const bodies = objects.map((x) => withOwnership(x, o.specName));
  const phases = planPhases(bodies);
  let infos = new Map<string, ResourceInfo>();
  let live = new Map<string, KubeObject>();
  let stopped = false;
  const remaining = new Set(bodies.map(objectRef));
  // Namespaces this apply creates (filled after the snapshot, for dry runs).
  const newNamespaces = new Set<string>();

  const stop = (why: string) => {
    stopped = true;
    out.aborted ??= why;
  };

  const steps: Step[] = [
    {
      title: 'Connect and discover APIs',
      run: async () => {
        if (o.requirements) await checkRequirements(s, o.requirements);
        const resolved = await s.discovery.resolveAll(bodies.filter((b) => !servedLate(b)));
        const snap = await ownedSnapshot(s, bodies, o.specName, concurrency);
        infos = new Map([...snap.infos, ...resolved]);
        live = snap.live;
        const move = o.allowMeshMove ? undefined : controlPlaneMove(bodies, live.values(), o.specName);
        if (move) {
          stop(move);
          throw new UserError(move, 2);
        }
        if (o.dryRun) {
          const nsInfo = infos.get('v1/Namespace');
          await mapLimit(bodies.filter((x) => x.kind === 'Namespace' && x.apiVersion === 'v1'), concurrency, async (b) => {
            if (nsInfo && !(await getObject(s.client, nsInfo, undefined, b.metadata.name))) newNamespaces.add(b.metadata.name);
          });
        }
        const p = await s.discovery.platform();
        const platform = `mesh APIs: ${p.mesh}${p.knativeOperator ? ', Knative operator' : ''}${p.knativeKafka ? ', KnativeKafka' : ''}${p.openshiftRoute ? ', OpenShift Route' : ''}`;
        return `${platform}; ${live.size} objects already owned by spec "${o.specName}"`;
      },
    },
  ];

  for (const phase of phases) {
    // Deny-all before sidecars have the ALLOW policies blocks activator→autoscaler (research §4 step 5, §9.10).
    if (phase.id === 'policies' && !o.dryRun) {
      const ks = bodies.filter(isKnativeServing);
      if (ks.length) {
        const why = `${ks.map(objectRef).join(', ')} must be Ready first: a deny-all policy before the sidecars know the allow rules cuts the activator off the autoscaler (waits up to ${Math.round(timeoutMs / 1000)} s${o.waitTimeoutMs === undefined ? '; --wait=DURATION sets the limit' : ''})`;
        steps.push(waitStep('Wait for KnativeServing Ready before AuthorizationPolicies', () => ks, why));
      }
    }
    steps.push({
      title: `${phase.title} (${phase.objects.length})`,
      skip: () => stopped,
      run: async (setOutput) => {
        for (const b of phase.objects) {
          if (!infos.has(`${b.apiVersion}/${b.kind}`)) {
            const info = await s.discovery.resolve(b.apiVersion, b.kind);
            if (info) infos.set(`${b.apiVersion}/${b.kind}`, info);
            else await s.discovery.resolveAll([b]); // throws the "install operator X" message
          }
        }
        let applied = 0;
        let unchanged = 0;
        let done = 0;
        await mapLimit(phase.objects, concurrency, async (b) => {
          if (stopped) return;
          const info = infos.get(`${b.apiVersion}/${b.kind}`)!;
          const ref = objectRef(b);
          try {
            if (!o.dryRun && !o.force && isUnchanged(b, live.get(objectKey(b)))) {
              unchanged++;
              out.unchanged.push(ref);
            } else {
              await serverSideApply(s.client, info, b, { dryRun: o.dryRun, force: o.force });
              applied++;
              out.applied.push(ref);
            }
            remaining.delete(ref);
          } catch (e) {
            remaining.delete(ref);
            // A dry run cannot admit objects into a namespace that only this apply would create.
            if (o.dryRun && e instanceof ApiError && e.code === 404 && b.metadata.namespace && newNamespaces.has(b.metadata.namespace)) {
              out.unverified.push(ref);
              return;
            }
            out.failed.push({ ref, error: describeError(e, 'patch', info, b) });
            if (e instanceof UnreachableError || (e instanceof ApiError && e.code === 401)) stop(describeError(e, 'patch', info));
          }
          done++;
          if (done % 25 === 0) setOutput(`${done}/${phase.objects.length}`);
        });
        if (out.failed.length) {
          stop(`${out.failed.length} object(s) failed in "${phase.title}"`);
          // Thrown so the progress shows the step as failed; the caller still prints the summary.
          throw new ClusterError(out.aborted!);
        }
        return `${applied} ${o.dryRun ? 'accepted (dry run)' : 'applied'}, ${unchanged} unchanged`;
      },
    });
    if (o.wait && !o.dryRun) {
      const ready = phase.objects.filter(hasReadyCondition);
      if (ready.length) steps.push(waitStep(`Wait for ${phase.title} Ready`, () => ready, `waiting up to ${Math.round(timeoutMs / 1000)} s for ${ready.length} object(s) to be Ready (--wait)`));
    }
  }

  if (o.prune !== false && !o.dryRun) {
    steps.push({
      title: 'Prune objects the spec no longer renders',
      skip: () => stopped,
      run: async () => {
        const victims = selectPrune(bodies, [...live.values()], o.specName);
        await pruneObjects(s, victims, infos, concurrency, out, false);
        if (out.failed.length) {
          stop('prune failed');
          throw new ClusterError(out.aborted!);
        }
        return `${out.pruned.length} deleted, ${out.released.length} namespaces released`;
      },
    });
  }

  // Call after the run, whatever happened: everything not attempted becomes "not applied".
  const finish = () => {
    out.notApplied.push(...remaining);
    remaining.clear();
  };
  return { steps, finish };

  function waitStep(title: string, targets: () => KubeObject[], announce?: string): Step {
    return {
      title,
      announce: announce ?? `waiting up to ${Math.round(timeoutMs / 1000)} s`,
      skip: () => stopped,
      run: async (setOutput) => {
        const t0 = Date.now();
        try {
          await waitReady(s, infos, targets(), timeoutMs, pollMs, setOutput);
        } catch (e) {
          if (e instanceof WaitTimeout) {
            out.failed.push({ ref: targets().map(objectRef).join(', '), error: e.message });
            stop(e.message);
            throw new ClusterError(e.message);
          }
          throw e;
        }
        return `Ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      },
    };
  }
}

/**
 * What releasing a namespace sends: an apply of the bare namespace by our field manager, which drops
 * every field we owned (our labels and annotations, injection and tenant labels) and keeps the rest.
 * `diff` previews it with the same body as a dry run.
 */
export function releaseBody(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** Deletes (or, for namespaces unless deleteNamespaces, releases) objects in the given order. */
async function pruneObjects(s: ClusterSession, victims: KubeObject[], infos: Map<string, ResourceInfo>, concurrency: number, out: Outcome, deleteNamespaces: boolean): Promise<void> {
  // Same-phase objects go in parallel; phases one after another (policies before what they protect).
  const groups = new Map<string, KubeObject[]>();
  for (const v of victims) groups.set(phaseOf(v), [...(groups.get(phaseOf(v)) ?? []), v]);
  for (const group of groups.values()) {
    await mapLimit(group, concurrency, async (v) => {
      const info = infos.get(`${v.apiVersion}/${v.kind}`) ?? (await s.discovery.resolve(v.apiVersion, v.kind));
      if (!info) return;
      try {
        if (v.kind === 'Namespace' && v.apiVersion === 'v1' && !deleteNamespaces) {
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
}

/** Steps for `delete -f SPEC`: everything labelled for this spec, newest phase first. */
export function deleteSteps(s: ClusterSession, objects: readonly KubeObject[], o: { specName: string; deleteNamespaces?: boolean; concurrency?: number }, out: Outcome): Step[] {
  const concurrency = o.concurrency ?? 32;
  let victims: KubeObject[] = [];
  let infos = new Map<string, ResourceInfo>();
  return [
    {
      title: 'Connect and find owned objects',
      run: async () => {
        const snap = await ownedSnapshot(s, objects, o.specName, concurrency);
        infos = snap.infos;
        victims = selectPrune([], [...snap.live.values()], o.specName);
        return `${victims.length} objects owned by spec "${o.specName}"`;
      },
    },
    {
      title: 'Delete',
      run: async () => {
        await pruneObjects(s, victims, infos, concurrency, out, !!o.deleteNamespaces);
        if (out.failed.length) throw new ClusterError(`${out.failed.length} object(s) could not be deleted`);
        return `${out.pruned.length} deleted, ${out.released.length} namespaces released`;
      },
    },
  ];
}

/** One-screen summary for stderr. */
export function summarize(out: Outcome, dryRun = false): string {
  const lines = [
    `${dryRun ? 'dry run: ' : ''}${out.applied.length} applied, ${out.unchanged.length} unchanged, ${out.pruned.length} pruned, ${out.released.length} namespaces released, ${out.failed.length} failed, ${out.notApplied.length} not applied`,
  ];
  if (out.unverified.length) lines.push(`  not checked by the server (their namespace does not exist yet): ${out.unverified.length} objects`);
  for (const f of out.failed) lines.push(`  failed: ${f.error}`);
  if (out.notApplied.length) {
    const shown = out.notApplied.slice(0, 20);
    lines.push(`  not applied: ${shown.join(', ')}${out.notApplied.length > shown.length ? `, … (${out.notApplied.length - shown.length} more)` : ''}`);
  }
  return lines.join('\n');
}

/** The UserError to exit with after a failed run. */
export function failure(out: Outcome): UserError | undefined {
  if (!out.failed.length && !out.aborted) return undefined;
  return new ClusterError(out.aborted ?? `${out.failed.length} object(s) failed`);
}
