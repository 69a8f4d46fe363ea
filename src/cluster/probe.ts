/**
 * `verify --live`, the imperative half: create the probe pods of a plan (src/verify/live-plan.ts), wait
 * until they run, exec each pod's script, and delete exactly this run's pods afterwards — also when the
 * run is aborted (Ctrl-C). Executing is an interface so the comparison can be tested from recorded
 * output: an apiserver without kubelets (the test environment) never runs a pod.
 */
import { ApiError, type KubeClient } from './client.ts';
import { describeError } from './ops.ts';
import type { ResourceInfo } from './discovery.ts';
import { PROBE_CONTAINER, probeScript, runSelector, type LivePlan, type ProbePod } from '../verify/live-plan.ts';
import type { PodOutcome } from '../verify/live-compare.ts';
import type { KubeObject } from '../util/kube.ts';

const POD: ResourceInfo = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

/** Runs a command in a pod's container and returns what it printed. */
export interface ProbeExecutor {
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    timeoutMs: number,
  ): Promise<{ stdout: string; stderr: string }>;
}

export class AbortedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'AbortedError';
  }
}

export interface ProbeRunOptions {
  executor: ProbeExecutor;
  /** How long a pod may take to become Running with every container ready. */
  startTimeoutMs: number;
  /** Deadline of one pod's whole script. */
  execTimeoutMs: number;
  caPem?: string;
  keepPods?: boolean;
  signal?: AbortSignal;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
  pollMs?: number;
}

/** Sidecar present as requested? Injection happens at admission, so the created pod already says. */
export function injectionProblem(pod: KubeObject, wantSidecar: boolean): string | undefined {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string; restartPolicy?: string }[] };
  // istio-proxy as a container, or (Istio ≥ 1.19 native sidecars) as an init container with restartPolicy Always.
  const has =
    (spec.containers ?? []).some((c) => c.name === 'istio-proxy') ||
    (spec.initContainers ?? []).some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always');
  if (wantSidecar && !has) return 'no istio-proxy sidecar was injected (is the namespace in the mesh?)';
  if (!wantSidecar && has) return 'an istio-proxy sidecar was injected although the pod opts out';
  return undefined;
}

/** Why a pod is not (yet) usable: undefined when Running with every container ready. */
function notReady(pod: KubeObject): { final: boolean; why: string } | undefined {
  const st = (pod.status ?? {}) as {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { name: string; ready?: boolean; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
  const phase = st.phase ?? 'Pending';
  if (phase === 'Failed' || phase === 'Succeeded') return { final: true, why: `pod ${phase}${st.reason ? ` (${st.reason})` : ''}` };
  const waiting = (st.containerStatuses ?? [])
    .map((c) => (c.state?.waiting?.reason ? `${c.name}: ${c.state.waiting.reason}` : ''))
    .filter(Boolean);
  if (phase === 'Running' && (st.containerStatuses ?? []).every((c) => c.ready)) return undefined;
  return { final: false, why: `phase ${phase}${waiting.length ? `, ${waiting.join(', ')}` : ''}` };
}

function abortable(signal: AbortSignal | undefined, ms: number): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError());
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Deletes this run's probe pods in each namespace (label-selected); returns the namespaces where that failed. */
export async function deleteProbePods(client: KubeClient, namespaces: readonly string[], runId: string): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    [...new Set(namespaces)].map(async (ns) => {
      try {
        await client.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, {
          query: { labelSelector: runSelector(runId) },
          body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
          retries: 2,
        });
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return;
        failed.push(`${ns}: ${describeError(e, 'deletecollection', POD)}`);
      }
    }),
  );
  return failed.sort();
}

/**
 * Creates, waits for and execs every pod of the plan; pods are deleted in `finally` (unless keepPods),
 * so an abort (signal) or an error still cleans up. Pods that cannot be created or started are reported
 * in their outcome and the others still run. Rejects with AbortedError when aborted.
 */
export async function runProbes(client: KubeClient, plan: LivePlan, o: ProbeRunOptions): Promise<PodOutcome[]> {
  const log = o.log ?? (() => {});
  const created: string[] = [];
  const outcomes = new Map<ProbePod, PodOutcome>();
  const set = (p: ProbePod, v: Omit<PodOutcome, 'namespace' | 'pod'>) => outcomes.set(p, { namespace: p.namespace, pod: p.name, ...v });
  try {
    // Create: one pod's 403 (namespace where the user may not create pods) does not stop the others.
    await Promise.all(
      plan.pods.map(async (p) => {
        if (o.signal?.aborted) return;
        try {
          const made = await client.request<KubeObject>('POST', `/api/v1/namespaces/${encodeURIComponent(p.namespace)}/pods`, {
            body: p.manifest,
            retries: 2,
          });
          created.push(p.namespace);
          const inj = injectionProblem(made, p.sidecar);
          if (inj) set(p, { notRun: inj });
          else log(`created pod ${p.namespace}/${p.name}`);
        } catch (e) {
          set(p, { notRun: describeError(e, 'create', POD, p.manifest) });
        }
      }),
    );
    if (o.signal?.aborted) throw new AbortedError();
    // Wait (bounded) until each created pod runs with every container (the sidecar too) ready.
    const deadline = Date.now() + o.startTimeoutMs;
    const waiting = new Map(plan.pods.filter((p) => !outcomes.has(p)).map((p) => [p, 'not yet seen']));
    while (waiting.size > 0) {
      for (const p of [...waiting.keys()]) {
        try {
          const live = await client.request<KubeObject>('GET', `/api/v1/namespaces/${encodeURIComponent(p.namespace)}/pods/${p.name}`, {
            retries: 2,
          });
          const nr = notReady(live);
          if (!nr) {
            waiting.delete(p);
            log(`pod ${p.namespace}/${p.name} running`);
          } else if (nr.final) {
            waiting.delete(p);
            set(p, { notRun: nr.why });
          } else waiting.set(p, nr.why);
        } catch (e) {
          waiting.delete(p);
          set(p, { notRun: describeError(e, 'get', POD, p.manifest) });
        }
      }
      if (waiting.size === 0) break;
      if (Date.now() >= deadline) {
        for (const [p, why] of waiting) set(p, { notRun: `not running after ${Math.round(o.startTimeoutMs / 1000)}s (${why})` });
        break;
      }
      await abortable(o.signal, o.pollMs ?? 1000);
    }
    // Exec: the pods that run, in parallel (each runs its requests in sequence).
    const ready = plan.pods.filter((p) => !outcomes.has(p));
    await Promise.all(
      ready.map(async (p) => {
        try {
          const r = await o.executor.exec(p.namespace, p.name, PROBE_CONTAINER, ['sh', '-c', probeScript(p, o.caPem)], o.execTimeoutMs);
          set(p, { stdout: r.stdout });
          log(`pod ${p.namespace}/${p.name}: ${p.requests.length} request(s) done`);
        } catch (e) {
          set(p, { notRun: `exec failed: ${describeError(e, 'create', { ...POD, plural: 'pods/exec' }).replace(/^pods\/exec: /, '')}` });
        }
      }),
    );
    if (o.signal?.aborted) throw new AbortedError();
    return plan.pods.map((p) => outcomes.get(p) ?? { namespace: p.namespace, pod: p.name, notRun: 'not attempted' });
  } finally {
    if (!o.keepPods && created.length > 0) {
      const failed = await deleteProbePods(client, created, plan.runId);
      for (const f of failed) log(`could not delete probe pods (${runSelector(plan.runId)}) in ${f}`);
      if (!failed.length) log(`deleted probe pods (${runSelector(plan.runId)})`);
    } else if (o.keepPods && created.length > 0) log(`kept probe pods: kubectl delete pods -A -l ${runSelector(plan.runId)}`);
  }
}
