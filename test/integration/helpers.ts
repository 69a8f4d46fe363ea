// Shared helpers for tests against the real test apiserver (scripts/test-env.mjs).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { KubeClient, sleep, type RequestOptions } from '../../src/cluster/client.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import type { ResourceInfo } from '../../src/cluster/discovery.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { ROOT } from '../helpers/shared.ts';

export function requireCluster(): string {
  const kc = process.env.KUBECONFIG;
  // Never skip: integration tests run only through scripts/run-tests.mjs, which starts the apiserver.
  if (!kc) throw new Error('KUBECONFIG is not set: run integration tests through `npm test` (scripts/run-tests.mjs)');
  return kc;
}

export function adminClient(kubeconfig = requireCluster()): KubeClient {
  return new KubeClient(loadKubeConfig({ kubeconfig }));
}

/** A client that records every request (not watch streams) and the answer to it (or the error). */
export class RecordingClient extends KubeClient {
  readonly calls: Array<{
    method: string;
    path: string;
    query: RequestOptions['query'];
    accept?: string;
    answer: unknown;
    failed?: boolean;
  }> = [];
  override async request<T = unknown>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    try {
      const answer = await super.request<T>(method, path, ro);
      this.calls.push({ method, path, query: ro.query, accept: ro.accept, answer });
      return answer;
    } catch (e) {
      this.calls.push({ method, path, query: ro.query, accept: ro.accept, answer: e, failed: true });
      throw e;
    }
  }
}

/** Discovery requests (/api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION): not reads of objects. */
export const isDiscoveryPath = (path: string): boolean => /^\/api(\/v1)?$|^\/apis(\/[^/]+(\/[^/]+)?)?$/.test(path);

export const recordingClient = (kubeconfig = requireCluster()): RecordingClient => new RecordingClient(loadKubeConfig({ kubeconfig }));

export const R = {
  namespace: { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  secret: { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  configmap: { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  smcp: { group: 'maistra.io', version: 'v2', kind: 'ServiceMeshControlPlane', plural: 'servicemeshcontrolplanes', namespaced: true },
  smmr: { group: 'maistra.io', version: 'v1', kind: 'ServiceMeshMemberRoll', plural: 'servicemeshmemberrolls', namespaced: true },
  gateway: { group: 'networking.istio.io', version: 'v1beta1', kind: 'Gateway', plural: 'gateways', namespaced: true },
  ap: { group: 'security.istio.io', version: 'v1beta1', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', namespaced: true },
  ks: { group: 'operator.knative.dev', version: 'v1beta1', kind: 'KnativeServing', plural: 'knativeservings', namespaced: true },
  ke: { group: 'operator.knative.dev', version: 'v1beta1', kind: 'KnativeEventing', plural: 'knativeeventings', namespaced: true },
  kk: { group: 'operator.serverless.openshift.io', version: 'v1alpha1', kind: 'KnativeKafka', plural: 'knativekafkas', namespaced: true },
  // sail-operator (OSSM 3): cluster-scoped control-plane CRs.
  istio: { group: 'sailoperator.io', version: 'v1', kind: 'Istio', plural: 'istios', namespaced: false },
  istiocni: { group: 'sailoperator.io', version: 'v1', kind: 'IstioCNI', plural: 'istiocnis', namespaced: false },
  deployment: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
} satisfies Record<string, ResourceInfo>;

export async function get(c: KubeClient, info: ResourceInfo, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await c.request<KubeObject>('GET', resourcePath(info, ns, name));
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export async function list(c: KubeClient, info: ResourceInfo, labelSelector?: string): Promise<KubeObject[]> {
  const r = await c.request<{ items: KubeObject[] }>('GET', resourcePath(info), { query: { labelSelector } });
  return r.items;
}

/** Sets Ready=True on the status subresource, as the operator does once it has reconciled this generation. */
export async function markReady(c: KubeClient, info: ResourceInfo, ns: string | undefined, name: string, ready = true): Promise<void> {
  const o = await get(c, info, ns, name);
  if (!o) throw new Error(`${info.kind} ${ns ?? ''}/${name} not found`);
  await c.request('PATCH', `${resourcePath(info, ns, name)}/status`, {
    contentType: 'application/merge-patch+json',
    body: {
      status: {
        observedGeneration: (o.metadata as { generation?: number }).generation,
        // SMCP v2 status requires readiness (what the Maistra operator reports per component).
        ...(info.kind === 'ServiceMeshControlPlane' ? { readiness: { components: { ready: ['istiod'] } } } : {}),
        // No empty strings: Kubernetes 1.20 turns "" into null and then rejects it.
        conditions: [
          ready
            ? { type: 'Ready', status: 'True' }
            : { type: 'Ready', status: 'False', reason: 'Installing', message: 'test says not yet' },
        ],
      },
    },
  });
}

/** The operator-reconciled kinds the stand-in operators mark Ready. */
export const OPERATOR_KINDS: ResourceInfo[] = [R.smcp, R.smmr, R.istio, R.istiocni, R.ks, R.ke, R.kk];

/**
 * Plays the operators: marks every SMCP/SMMR, sail-operator Istio/IstioCNI and Knative CR Ready once it
 * appears or changes generation. Returns a stop function.
 */
export function fakeOperators(c: KubeClient, kinds: ResourceInfo[] = OPERATOR_KINDS, intervalMs = 100): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const info of kinds) {
        try {
          for (const o of await list(c, info)) {
            const st = o.status as { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
            const gen = (o.metadata as { generation?: number }).generation;
            const ready = st?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
            if (!ready || st?.observedGeneration !== gen) await markReady(c, info, o.metadata.namespace, o.metadata.name);
          }
        } catch {
          // The apiserver may be briefly away in disruption tests; try again next round.
        }
      }
      await sleep(intervalMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would (bin/serverless-mesh.js), plain progress lines. */
export function cli(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), ...args], {
    env: { ...process.env, SERVERLESS_MESH_PLAIN: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

export const runCli = (args: string[], env?: Record<string, string | undefined>) => cli(args, env).done;

/** Writes a spec to a temp file and returns its path. */
export function specFile(mesh: ServerlessMesh): string {
  const dir = mkdtempSync(join(tmpdir(), 'sm-spec-'));
  const p = join(dir, `${mesh.metadata.name}.yaml`);
  writeFileSync(p, yaml.dump(mesh));
  return p;
}

export async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}
