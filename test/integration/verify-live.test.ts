/**
 * `verify --live` against the real test apiserver, everything up to the running pods: the probe pods are
 * created with the run's labels, the flavour's injection request, service account `default` and a
 * restricted securityContext; an apiserver without Istio's injector yields pods without sidecar, which
 * is reported; cleanup deletes exactly this run's pods, also on SIGINT (the CLI as a real child process);
 * a namespace where creation is forbidden (RBAC, through impersonation of a user of its own) is one
 * finding naming it while the other namespaces are still probed. There is no kubelet: the test plays it
 * by setting pod status, and the executor plays back recorded (synthetic) probe output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { modelFromObjects, type KnativeModel } from '../../src/authz/knative.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { loadSpecFile } from '../../src/api/load.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import { runProbes, type ProbeExecutor } from '../../src/cluster/probe.ts';
import { WebSocketExecutor } from '../../src/cluster/exec.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { render } from '../../src/render/index.ts';
import { compareLive } from '../../src/verify/live-compare.ts';
import { buildLivePlan, PROBE_MARKER, PROBE_RUN_LABEL, type LiveTarget } from '../../src/verify/live-plan.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { TEST_TLS } from '../helpers/shared.ts';
import { adminClient, cli, requireCluster, runCli, specFile, waitUntil } from './helpers.ts';

const NS = ['lv-a1', 'lv-a2', 'lv-b1'];
const FORBIDDEN = 'lv-b1';
const USER = 'sm-live-prober';
const COMPONENT = 'app.kubernetes.io/component=verify-live-probe';

const rawSpec = {
  apiVersion: 'serverlessmesh.dev/v1alpha1',
  kind: 'ServerlessMesh',
  metadata: { name: 'live' },
  spec: {
    mesh: { flavor: 'ossm2' },
    domain: 'apps.live.example.com',
    tenants: [
      { name: 'lv-alpha', namespaces: ['lv-a1', 'lv-a2'] },
      { name: 'lv-bravo', namespaces: ['lv-b1'] },
    ],
  },
};

async function pods(c: KubeClient, ns: string, selector: string): Promise<KubeObject[]> {
  return (await c.request<{ items: KubeObject[] }>('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector } })).items;
}

async function ensure(c: KubeClient, path: string, body: KubeObject): Promise<void> {
  try {
    await c.request('POST', path, { body });
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
  }
}

/** A kubeconfig that acts as USER (the admin impersonates it), so RBAC applies to a user no other test grants. */
function impersonatingKubeconfig(): string {
  const kc = yaml.load(readFileSync(requireCluster(), 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
  for (const u of kc.users) u.user.as = USER;
  const p = join(mkdtempSync(join(tmpdir(), 'sm-live-kc-')), 'kubeconfig');
  writeFileSync(p, yaml.dump(kc));
  return p;
}

const rbacPath = (ns: string, kind: 'roles' | 'rolebindings') => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/${kind}`;

describe('verify --live on the real apiserver', () => {
  let c: KubeClient;
  let kubeconfig: string;
  let m: KnativeModel;
  let specPath: string;

  before(async () => {
    c = adminClient();
    kubeconfig = impersonatingKubeconfig();
    for (const ns of NS) {
      await ensure(c, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      // No service-account controller runs here: create `default`, which the ServiceAccount admission plugin checks.
      await ensure(c, `/api/v1/namespaces/${ns}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default' },
      });
      await ensure(c, `/apis/serving.knative.dev/v1/namespaces/${ns}/services`, {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        metadata: { name: 'hello', namespace: ns },
        spec: { template: { spec: { containers: [{ image: 'docker.io/openshift/hello-openshift' }] } } },
      });
      // Playing Knative: the ready revision is not the first one.
      await c.request('PATCH', `/apis/serving.knative.dev/v1/namespaces/${ns}/services/hello/status`, {
        contentType: 'application/merge-patch+json',
        body: { status: { latestReadyRevisionName: 'hello-00003', url: `https://hello-${ns}.apps.live.example.com` } },
      });
      // USER reads Knative Services everywhere, but manages pods only outside FORBIDDEN.
      const rules: unknown[] = [{ apiGroups: ['serving.knative.dev'], resources: ['services'], verbs: ['get', 'list'] }];
      if (ns !== FORBIDDEN)
        rules.push(
          { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'delete', 'deletecollection'] },
          { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
        );
      await ensure(c, rbacPath(ns, 'roles'), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'live-prober' },
        rules,
      });
      await ensure(c, rbacPath(ns, 'rolebindings'), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'live-prober' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'live-prober' },
        subjects: [{ kind: 'User', name: USER, apiGroup: 'rbac.authorization.k8s.io' }],
      });
    }
    specPath = specFile(rawSpec as unknown as ServerlessMesh);
    const spec = loadSpecFile(specPath);
    m = modelFromObjects(render(spec, { tls: TEST_TLS }), { flavor: 'ossm2', tenants: spec.spec.tenants, domain: spec.spec.domain });
  });

  after(() => c.close());

  it('creates the pods as planned, reports missing sidecars, compares recorded output, deletes exactly this run', async () => {
    // Another run's pod in the same namespace: cleanup must leave it alone.
    await ensure(c, '/api/v1/namespaces/lv-a1/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'other-run', labels: { [PROBE_RUN_LABEL]: 'otherrun' } },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'x', image: 'example.com/x' }] },
    });
    const targets: LiveTarget[] = m.ksvcs.map((k) => ({
      model: k,
      namespace: k.namespace,
      name: 'hello',
      revision: 'hello-00003',
      externalUrl: `https://hello-${k.namespace}.apps.live.example.com`,
    }));
    const plan = buildLivePlan(m, targets, { runId: 'itest1', vias: ['direct', 'no-sidecar'], sources: ['lv-a1', 'lv-a2'] });
    const seen: KubeObject[] = [];
    // Plays the kubelet: the pods of this run become Running and ready.
    let kubelet = true;
    const kubeletLoop = (async () => {
      while (kubelet) {
        for (const ns of ['lv-a1', 'lv-a2'])
          for (const p of await pods(c, ns, `${PROBE_RUN_LABEL}=itest1`))
            if ((p.status as { phase?: string } | undefined)?.phase !== 'Running')
              await c
                .request('PATCH', `/api/v1/namespaces/${ns}/pods/${p.metadata.name}/status`, {
                  contentType: 'application/merge-patch+json',
                  body: {
                    status: {
                      phase: 'Running',
                      containerStatuses: [{ name: 'probe', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} } }],
                    },
                  },
                })
                .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const executor: ProbeExecutor = {
      async exec(namespace, pod, container, command) {
        seen.push(...(await pods(c, namespace, `${PROBE_RUN_LABEL}=itest1`)));
        assert.equal(container, 'probe');
        assert.deepEqual(command.slice(0, 2), ['sh', '-c']);
        const p = plan.pods.find((x) => x.namespace === namespace && x.name === pod)!;
        // Recorded: what a plaintext caller meets at the OSSM 2 local gateway (ISTIO_MUTUAL): a reset.
        return {
          stdout: p.requests.map((r) => `${PROBE_MARKER} ${r.id} rc=56 http=000 err=curl: (56) Recv failure body=`).join('\n'),
          stderr: '',
        };
      },
    };
    let outcomes;
    try {
      outcomes = await runProbes(c, plan, { executor, startTimeoutMs: 20_000, execTimeoutMs: 10_000, pollMs: 100 });
    } finally {
      kubelet = false;
      await kubeletLoop;
    }
    // No injector on this apiserver: the sidecar pods are created but have no istio-proxy.
    for (const o of outcomes.filter((x) => x.pod === 'sm-probe-itest1'))
      assert.match(o.notRun ?? '', /no istio-proxy sidecar was injected/);
    for (const o of outcomes.filter((x) => x.pod === 'sm-probe-itest1-nosidecar')) assert.ok(o.stdout, JSON.stringify(o));
    const rep = compareLive(plan, outcomes);
    assert.deepEqual(
      rep.findings.map((f) => [f.code, f.resource.namespace]),
      [
        ['SM5007', 'lv-a1'],
        ['SM5007', 'lv-a2'],
      ],
    );
    const noSidecarRows = rep.rows.filter((r) => r.via === 'no-sidecar');
    assert.equal(noSidecarRows.length, 2 * 3);
    assert.ok(noSidecarRows.every((r) => r.live === 'refused' && r.agrees));

    // What was created, as the apiserver stored it.
    assert.equal(new Set(seen.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).size, 4);
    for (const p of seen) {
      const sidecar = !p.metadata.name.endsWith('-nosidecar');
      assert.equal(p.metadata.labels?.['app.kubernetes.io/managed-by'], 'serverless-mesh');
      assert.equal(p.metadata.labels?.[PROBE_RUN_LABEL], 'itest1');
      assert.equal(p.metadata.labels?.['sidecar.istio.io/inject'], sidecar ? 'true' : 'false');
      assert.equal(p.metadata.annotations?.['sidecar.istio.io/inject'], sidecar ? 'true' : 'false');
      const s = p.spec as {
        serviceAccountName: string;
        securityContext: Record<string, unknown>;
        containers: Array<{ securityContext: unknown }>;
      };
      assert.equal(s.serviceAccountName, 'default');
      assert.deepEqual(s.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      assert.deepEqual(s.containers[0]!.securityContext, {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        runAsNonRoot: true,
      });
    }
    // Cleanup: this run's pods are being deleted (no kubelet confirms termination, so deletion is immediate
    // only for pods never scheduled; a scheduled one gets a deletionTimestamp) and the other run's pod is untouched.
    for (const ns of ['lv-a1', 'lv-a2'])
      for (const p of await pods(c, ns, `${PROBE_RUN_LABEL}=itest1`))
        assert.ok(p.metadata.deletionTimestamp, `${p.metadata.name} not deleted`);
    assert.equal((await pods(c, 'lv-a1', `${PROBE_RUN_LABEL}=otherrun`)).length, 1);
    await c.request('DELETE', '/api/v1/namespaces/lv-a1/pods/other-run', { query: { gracePeriodSeconds: 0 } });
  });

  it('a namespace where pod creation is forbidden is reported by name; the others are still probed; nothing is left', async () => {
    const args = ['verify', '-f', specPath, '--live', '--timeout', '2s', '--kubeconfig', kubeconfig, '-o', 'json'];
    let res = await runCli(args);
    // RBAC bindings reach the authorizer's cache within a moment.
    for (let i = 0; i < 20 && /forbidden/.test(res.stderr + res.stdout) && !/"lv-b1/.test(res.stdout); i++) res = await runCli(args);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout) as {
      runId: string;
      rows: Array<{ command: string; from: string }>;
      findings: Array<{ code: string; message: string }>;
    };
    const byNs = (ns: string) => out.findings.filter((f) => f.message.startsWith(`${ns}:`));
    for (const f of byNs(FORBIDDEN))
      assert.match(f.message, /^lv-b1: \d+ request\(s\) from the probe pod( without sidecar)? not made: .*forbidden \(403\)/);
    assert.equal(byNs(FORBIDDEN).length, 2);
    // The others were created: sidecar pods without sidecar (no injector), the others never Running (no kubelet).
    assert.match(
      byNs('lv-a1')
        .map((f) => f.message)
        .join('\n'),
      /no istio-proxy sidecar was injected/,
    );
    assert.match(
      byNs('lv-a1')
        .map((f) => f.message)
        .join('\n'),
      /not running after 2s \(phase Pending\)/,
    );
    assert.ok(out.findings.every((f) => f.code === 'SM5007'));
    // Targets as the cluster has them: the ready revision from the ksvc's status.
    assert.ok(out.rows.some((r) => r.command.includes('http://hello-00003-private.lv-b1.svc.cluster.local/')));
    for (const ns of ['lv-a1', 'lv-a2'])
      for (const p of await pods(c, ns, `${PROBE_RUN_LABEL}=${out.runId}`))
        assert.ok(p.metadata.deletionTimestamp, `${ns}/${p.metadata.name} left`);
    assert.match(res.stderr, new RegExp(`deleted probe pods \\(${PROBE_RUN_LABEL}=${out.runId}\\)`));
  });

  it('exec over the apiserver websocket: authenticated, and its refusals are one readable line', async () => {
    await ensure(c, '/api/v1/namespaces/lv-a1/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'exec-target' },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'probe', image: 'example.com/x' }] },
    });
    try {
      // The apiserver accepts the upgrade request and refuses: the pod is on no node (no kubelet here).
      const admin = new WebSocketExecutor(loadKubeConfig({ kubeconfig: requireCluster() }));
      await assert.rejects(
        admin.exec('lv-a1', 'exec-target', 'probe', ['true'], 10_000),
        /exec refused \(HTTP 400\): .*does not have a host assigned/,
      );
      // RBAC applies: USER may not exec in FORBIDDEN (the websocket upgrade is a GET: verb get on pods/exec in 1.20).
      const user = new WebSocketExecutor(loadKubeConfig({ kubeconfig }));
      await assert.rejects(
        user.exec(FORBIDDEN, 'exec-target', 'probe', ['true'], 10_000),
        /exec refused \(HTTP 403\): .*cannot (get|create) resource "pods\/exec"/,
      );
    } finally {
      await c.request('DELETE', '/api/v1/namespaces/lv-a1/pods/exec-target', { query: { gracePeriodSeconds: 0 } });
    }
  });

  it('Ctrl-C while waiting for the pods: they are deleted and the exit code is 130', async () => {
    const run = cli(['verify', '-f', specPath, '--live', '--timeout', '5m', '--kubeconfig', kubeconfig]);
    let runId = '';
    await waitUntil(
      'the probe pods exist',
      async () => {
        const p = (await pods(c, 'lv-a2', COMPONENT)).filter((x) => !x.metadata.deletionTimestamp);
        runId = p[0]?.metadata.labels?.[PROBE_RUN_LABEL] ?? '';
        return p.length === 2;
      },
      60_000,
    );
    run.child.kill('SIGINT');
    const res = await run.done;
    assert.equal(res.code, 130, res.stderr);
    assert.match(res.stderr, /interrupted: deleting the probe pods/);
    for (const ns of ['lv-a1', 'lv-a2'])
      for (const p of await pods(c, ns, `${PROBE_RUN_LABEL}=${runId}`))
        assert.ok(p.metadata.deletionTimestamp, `${ns}/${p.metadata.name} left`);
  });
});
