// The CLI's apply / delete: progress steps around the data-in/data-out engine (engine.ts), readiness
// waits (the CLI may block; the engine never does), and the Outcome the commands print.
import { ClusterError, UserError } from '../util/errors.ts';
import { objectRef, type KubeObject } from '../util/kube.ts';
import { sleep } from './client.ts';
import {
  type ApplyPlan,
  type ClusterSession,
  applyPhase,
  ownedSnapshot,
  planApply,
  pruneCandidates,
  pruneObjects,
  readiness,
} from './engine.ts';
import { type ClusterRequirements, hasReadyCondition, isKnativeServing, planPhases, selectPrune, withOwnership } from './plan.ts';
import type { ResourceInfo } from './discovery.ts';
import type { Step } from './progress.ts';

export { releaseBody, type ClusterSession } from './engine.ts';

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

/** Polls engine.readiness until every object is Ready, one is failed for good, or the deadline passes. */
async function waitReady(
  s: ClusterSession,
  infos: Map<string, ResourceInfo>,
  objects: KubeObject[],
  timeoutMs: number,
  pollMs: number,
  setOutput: (t: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = objects;
  let interval = Math.min(100, pollMs); // operators often finish within a second: look early, then back off
  for (;;) {
    const r = await readiness(s, infos, pending);
    // A failed reason may still heal (an operator retries): keep waiting, but show it.
    const waiting = [...r.pending, ...r.failed];
    if (!waiting.length) return;
    const refs = new Set(waiting.map((w) => w.ref));
    pending = pending.filter((o) => refs.has(objectRef(o)));
    setOutput(`waiting for ${waiting.map((w) => `${w.ref} (${w.reason})`).join(', ')}`);
    if (Date.now() >= deadline) {
      const detail = waiting.map((w) => `${w.ref}: ${w.reason}`).join(' | ');
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
export function applySteps(
  s: ClusterSession,
  objects: readonly KubeObject[],
  o: ApplyOptions,
  out: Outcome,
): { steps: Step[]; finish: () => void } {
  const concurrency = o.concurrency ?? 32;
  const pollMs = o.pollMs ?? 1000;
  const timeoutMs = o.waitTimeoutMs ?? 10 * 60_000;
  // The phases are known before the cluster is read; planApply fills the rest.
  let plan: ApplyPlan | undefined;
  const phasesUpFront = planPhasesOf(objects, o.specName);
  let stopped = false;
  const remaining = new Set(phasesUpFront.flatMap((p) => p.objects.map(objectRef)));

  const stop = (why: string) => {
    stopped = true;
    out.aborted ??= why;
  };

  const steps: Step[] = [
    {
      title: 'Connect and discover APIs',
      run: async () => {
        plan = await planApply(s, objects, {
          specName: o.specName,
          dryRun: o.dryRun,
          allowMeshMove: o.allowMeshMove,
          requirements: o.requirements,
          concurrency,
        });
        if (plan.blocked) {
          // A control-plane move is refused as the user's doing (exit 2); an unmet requirement is the cluster's (exit 3).
          if (plan.blocked.kind === 'input') stop(plan.blocked.message);
          throw new UserError(plan.blocked.message, plan.blocked.kind);
        }
        return plan.summary;
      },
    },
  ];

  for (const [i, phase] of phasesUpFront.entries()) {
    // Deny-all before sidecars have the ALLOW policies blocks activator→autoscaler (research §4 step 5, §9.10).
    if (phase.id === 'policies' && !o.dryRun) {
      const ks = phase.all.filter(isKnativeServing);
      if (ks.length) {
        const why = `${ks.map(objectRef).join(', ')} must be Ready first: a deny-all policy before the sidecars know the allow rules cuts the activator off the autoscaler (waits up to ${Math.round(timeoutMs / 1000)} s${o.waitTimeoutMs === undefined ? '; --wait=DURATION sets the limit' : ''})`;
        steps.push(
          waitStep('Wait for KnativeServing Ready before AuthorizationPolicies', () => plan!.bodies.filter(isKnativeServing), why),
        );
      }
    }
    steps.push({
      title: `${phase.title} (${phase.objects.length})`,
      skip: () => stopped,
      run: async (setOutput) => {
        const p = plan!.phases[i]!;
        const res = await applyPhase(s, plan!, p, {
          dryRun: o.dryRun,
          force: o.force,
          concurrency,
          onProgress: (done, total) => {
            if (done % 25 === 0) setOutput(`${done}/${total}`);
          },
        });
        for (const r of [...res.applied, ...res.unchanged, ...res.unverified, ...res.failed.map((f) => f.ref)]) remaining.delete(r);
        out.applied.push(...res.applied);
        out.unchanged.push(...res.unchanged);
        out.unverified.push(...res.unverified);
        out.failed.push(...res.failed.map(({ ref, error }) => ({ ref, error })));
        if (res.fatal) stop(res.fatal);
        if (res.fatal && !res.failed.length) throw new ClusterError(res.fatal);
        if (out.failed.length) {
          stop(`${out.failed.length} object(s) failed in "${p.title}"`);
          // Thrown so the progress shows the step as failed; the caller still prints the summary.
          throw new ClusterError(out.aborted!);
        }
        return `${res.applied.length} ${o.dryRun ? 'accepted (dry run)' : 'applied'}, ${res.unchanged.length} unchanged`;
      },
    });
    if (o.wait && !o.dryRun) {
      const ready = phase.objects.filter(hasReadyCondition);
      if (ready.length) {
        const refs = new Set(ready.map(objectRef));
        steps.push(
          waitStep(
            `Wait for ${phase.title} Ready`,
            () => plan!.phases[i]!.objects.filter((x) => refs.has(objectRef(x))),
            `waiting up to ${Math.round(timeoutMs / 1000)} s for ${ready.length} object(s) to be Ready (--wait)`,
          ),
        );
      }
    }
  }

  if (o.prune !== false && !o.dryRun) {
    steps.push({
      title: 'Prune objects the spec no longer renders',
      skip: () => stopped,
      run: async () => {
        const res = await pruneObjects(s, pruneCandidates(plan!), plan!.infos, { concurrency });
        out.pruned.push(...res.pruned);
        out.released.push(...res.released);
        out.failed.push(...res.failed.map(({ ref, error }) => ({ ref, error })));
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
          await waitReady(s, plan!.infos, targets(), timeoutMs, pollMs, setOutput);
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

/** The phases of a render (titles and objects), before anything is read from the cluster. */
function planPhasesOf(
  objects: readonly KubeObject[],
  specName: string,
): { id: string; title: string; objects: KubeObject[]; all: KubeObject[] }[] {
  const bodies = objects.map((x) => withOwnership(x, specName));
  return planPhases(bodies).map((p) => ({ id: p.id, title: p.title, objects: p.objects, all: bodies }));
}

/** Steps for `delete -f SPEC`: everything labelled for this spec, newest phase first. */
export function deleteSteps(
  s: ClusterSession,
  objects: readonly KubeObject[],
  o: { specName: string; deleteNamespaces?: boolean; concurrency?: number },
  out: Outcome,
): Step[] {
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
        const res = await pruneObjects(s, victims, infos, { concurrency, deleteNamespaces: o.deleteNamespaces });
        out.pruned.push(...res.pruned);
        out.released.push(...res.released);
        out.failed.push(...res.failed.map(({ ref, error }) => ({ ref, error })));
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
  if (out.unverified.length)
    lines.push(`  not checked by the server (their namespace does not exist yet): ${out.unverified.length} objects`);
  for (const f of out.failed) lines.push(`  failed: ${f.error}`);
  if (out.notApplied.length) {
    const shown = out.notApplied.slice(0, 20);
    lines.push(
      `  not applied: ${shown.join(', ')}${out.notApplied.length > shown.length ? `, … (${out.notApplied.length - shown.length} more)` : ''}`,
    );
  }
  return lines.join('\n');
}

/** The UserError to exit with after a failed run. */
export function failure(out: Outcome): UserError | undefined {
  if (!out.failed.length && !out.aborted) return undefined;
  return new ClusterError(out.aborted ?? `${out.failed.length} object(s) failed`);
}
