// `serverless-mesh controller run` as a real child process against the test apiserver, with the
// stand-in operators: create → everything applied and Ready; deleted or hand-edited owned objects are
// restored; a removed tenant is pruned (look-alikes without our labels untouched); a spec error is
// Degraded with nothing written; another (non-kubectl) manager's field is reported as a Conflict, not
// taken; a hand-made policy opening a path between tenants is Verified=False / not Ready; SIGKILL
// mid-reconcile converges after a restart; a second replica stands by on the Lease and takes it over
// once the SIGKILLed holder's Lease expired; deleting the CR cleans up through the finalizer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { sleep } from '../../src/cluster/client.ts';
import { Discovery, type ResourceInfo } from '../../src/cluster/discovery.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import { FIELD_MANAGER, MANAGED_BY, SPEC_LABEL } from '../../src/cluster/plan.ts';
import { CR_RESOURCE } from '../../src/controller/crd.ts';
import { specFromCr } from '../../src/controller/spec.ts';
import { render } from '../../src/render/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { R, adminClient, fakeOperators, get, list, requireCluster, waitUntil } from './helpers.ts';
import { fetchText, installCrd, startController, stopController, type Controller } from './controller-helpers.ts';

const NAME = 'ctl';
const ALPHA = ['ctl-alpha-1', 'ctl-alpha-2'];
const BRAVO = ['ctl-bravo-1'];

function cr(tenants: { name: string; namespaces: string[] }[], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'serverlessmesh.dev/v1alpha1',
    kind: 'ServerlessMesh',
    metadata: { name: NAME },
    spec: {
      mesh: { flavor: 'ossm2' },
      domain: 'apps.ctl.example.com',
      tls: { secretName: 'ctl-certs', generate: true },
      tenants,
      ...extra,
    },
  };
}
const TENANTS = [
  { name: 'alpha', namespaces: ALPHA },
  { name: 'bravo', namespaces: BRAVO },
];

type Cond = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
async function condition(c: KubeClient, type: string): Promise<Cond | undefined> {
  const o = await get(c, CR_RESOURCE, undefined, NAME);
  return ((o?.status as { conditions?: Cond[] } | undefined)?.conditions ?? []).find((x) => x.type === type);
}

async function applyCr(c: KubeClient, body: KubeObject): Promise<void> {
  await c.request('PATCH', resourcePath(CR_RESOURCE, undefined, NAME), {
    body,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'test-user', force: true },
  });
}

let logs: () => string = () => '';
async function waitReady(c: KubeClient, what: string, timeoutMs = 90_000): Promise<void> {
  const o = await get(c, CR_RESOURCE, undefined, NAME);
  const gen = (o?.metadata as { generation?: number }).generation;
  await waitUntil(
    `${what}: Ready=True for generation ${gen} (last: ${JSON.stringify(await condition(c, 'Ready'))})`,
    async () => {
      const r = await condition(c, 'Ready');
      return r?.status === 'True' && r.observedGeneration === gen;
    },
    timeoutMs,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; controller log: ${logs().split('\n').slice(-8).join(' | ')}`);
  });
}

describe('controller run against a real kube-apiserver', () => {
  let c: KubeClient;
  let discovery: Discovery;
  let stopOperators: () => Promise<void>;
  let a: Controller | undefined;
  let b: Controller | undefined;
  const infoOf = async (o: { apiVersion: string; kind: string }): Promise<ResourceInfo> => {
    const i = await discovery.resolve(o.apiVersion, o.kind);
    assert.ok(i, `${o.apiVersion} ${o.kind} served`);
    return i;
  };
  const desired = async (): Promise<KubeObject[]> => {
    const live = await get(c, CR_RESOURCE, undefined, NAME);
    const s = specFromCr(live!);
    assert.ok(s.ok);
    return render(s.mesh, { tls: { certPem: '', keyPem: '' } });
  };

  before(async () => {
    requireCluster();
    c = adminClient();
    discovery = new Discovery(c);
    await installCrd(c);
    stopOperators = fakeOperators(c);
    a = startController('replica-a');
    logs = () => a?.stderr() ?? '';
    await a.port;
  });
  after(async () => {
    await stopController(a);
    await stopController(b);
    await stopOperators?.();
    c?.close();
  });

  it('create the CR: every rendered object appears, Ready=True once the operators report Ready; probes and metrics', async () => {
    await applyCr(c, cr(TENANTS));
    await waitReady(c, 'after create');
    for (const o of await desired()) {
      const live = await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name);
      assert.ok(live, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} present`);
      assert.equal(live.metadata.labels?.[SPEC_LABEL], NAME);
    }
    const st = (await get(c, CR_RESOURCE, undefined, NAME))!.status as {
      applied: number;
      pending: number;
      objects: number;
      conditions: Cond[];
    };
    assert.equal(st.pending, 0);
    assert.equal(st.applied, st.objects);
    assert.deepEqual(
      st.conditions.map((x) => `${x.type}=${x.status}`),
      ['Ready=True', 'Progressing=False', 'Degraded=False', 'Verified=True'],
    );
    const fin = ((await get(c, CR_RESOURCE, undefined, NAME))!.metadata as { finalizers?: string[] }).finalizers;
    assert.deepEqual(fin, ['serverlessmesh.dev/cleanup']);
    const port = await a!.port;
    assert.equal((await fetchText(port, '/healthz')).status, 200);
    assert.equal((await fetchText(port, '/readyz')).status, 200);
    const m = (await fetchText(port, '/metrics')).text;
    assert.match(m, /serverless_mesh_reconcile_total\{result="ready"\} [1-9]/);
    assert.match(m, /serverless_mesh_reconcile_duration_seconds_count [1-9]/);
    assert.match(m, /serverless_mesh_workqueue_depth \d/);
    assert.match(m, /serverless_mesh_leader 1/);
    // Events on the CR.
    const ev = await c.request<{ items: { reason: string; involvedObject: { name: string } }[] }>(
      'GET',
      '/api/v1/namespaces/default/events',
    );
    assert.ok(
      ev.items.some((e) => e.involvedObject.name === NAME && e.reason === 'Reconciled'),
      'a Reconciled event',
    );
  });

  it('a deleted owned AuthorizationPolicy is restored', async () => {
    const aps = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((x) => x.metadata.namespace === ALPHA[0]);
    assert.ok(aps.length > 0);
    const victim = aps[0]!;
    const uid = victim.metadata.uid as string;
    const mark = a!.stderr().length;
    await c.request('DELETE', resourcePath(R.ap, victim.metadata.namespace, victim.metadata.name));
    await waitUntil('the AuthorizationPolicy is back', async () => {
      const o = await get(c, R.ap, victim.metadata.namespace, victim.metadata.name);
      return !!o && o.metadata.uid !== uid;
    });
    // Restored as it was: verify's inputs are the same, its answer is reused (no second simulation).
    await waitUntil('a Ready reconcile that reused verify', () =>
      Promise.resolve(/reconcile ctl: Ready: .*verify unchanged/.test(a!.stderr().slice(mark))),
    );
  });

  it('a hand-edited owned field is restored; a field we do not own stays', async () => {
    const aps = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((x) => x.metadata.namespace === ALPHA[0]);
    const ap =
      aps.find((x) => (x.spec as { action?: string }).action !== undefined || (x.spec as { rules?: unknown }).rules !== undefined) ??
      aps[0]!;
    const before = structuredClone(ap.spec);
    await c.request('PATCH', resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name), {
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'kubectl-edit' },
      body: {
        metadata: { labels: { 'someone.example/extra': 'keep' } },
        spec: { rules: [{ from: [{ source: { namespaces: ['*'] } }] }], action: 'ALLOW' },
      },
    });
    await waitUntil('the hand edit is undone', async () => {
      const o = await get(c, R.ap, ap.metadata.namespace, ap.metadata.name);
      return JSON.stringify(o?.spec) === JSON.stringify(before);
    });
    const o = await get(c, R.ap, ap.metadata.namespace, ap.metadata.name);
    assert.equal(o!.metadata.labels?.['someone.example/extra'], 'keep');
    await waitReady(c, 'after the hand edit');
  });

  it('a conflict with another manager (not kubectl) is reported on status, not forced', async () => {
    const aps = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).filter(
      (x) => x.metadata.namespace === ALPHA[0] && (x.spec as { rules?: unknown }).rules !== undefined,
    );
    assert.ok(aps.length > 0, 'an owned AuthorizationPolicy with rules');
    const ap = aps[0]!;
    const theirs = [{ from: [{ source: { namespaces: [ALPHA[0]!] } }], to: [{ operation: { paths: ['/other-controller'] } }] }];
    // An update by another controller: it becomes the owner of spec.rules (managedFields), our apply now conflicts.
    await c.request('PATCH', resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name), {
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'other-controller' },
      body: { spec: { rules: theirs } },
    });
    await waitUntil('Ready=False Conflict', async () => (await condition(c, 'Ready'))?.reason === 'Conflict');
    const ready = (await condition(c, 'Ready'))!;
    assert.equal(ready.status, 'False');
    assert.match(
      ready.message,
      new RegExp(
        `AuthorizationPolicy/${ALPHA[0]}/${ap.metadata.name}: conflict \\(409\\): .*\\.spec\\.rules.* owned by "other-controller"`,
      ),
    );
    assert.equal((await condition(c, 'Degraded'))!.status, 'True');
    const st = (await get(c, CR_RESOURCE, undefined, NAME))!.status as { conflicts: string[] };
    assert.equal(st.conflicts.length, 1);
    assert.match(st.conflicts[0]!, /other-controller/);
    assert.doesNotMatch(st.conflicts[0]!, /--force-conflicts/);
    // Not taken over: another reconcile (a resync-like nudge through the CR's own watch) leaves their rules.
    await sleep(1500);
    const live = await get(c, R.ap, ap.metadata.namespace, ap.metadata.name);
    assert.deepEqual((live!.spec as { rules: unknown }).rules, theirs, "the other manager's value stays");
    const mf = (live!.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields ?? [];
    assert.ok(mf.some((m) => m.manager === 'other-controller' && m.operation === 'Update'));
    // The other manager's object goes away: recreated as ours, Ready again.
    await c.request('DELETE', resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name));
    await waitReady(c, 'after the conflicting object was deleted');
    assert.deepEqual(((await get(c, CR_RESOURCE, undefined, NAME))!.status as { conflicts: string[] }).conflicts, []);
  });

  it('verify: a hand-made policy letting one tenant reach another makes Verified=False and Ready=False; removing it, True again', async () => {
    const leak = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'hand-made-leak', namespace: ALPHA[0]! },
      // ALLOW policies add up (Istio: a request is allowed when any ALLOW policy matches): bravo may now call alpha.
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: [BRAVO[0]!] } }] }] },
    };
    await c.request('POST', resourcePath(R.ap, ALPHA[0]), { body: leak });
    await waitUntil('Verified=False', async () => (await condition(c, 'Verified'))?.status === 'False', 30_000);
    const v = (await condition(c, 'Verified'))!;
    assert.equal(v.reason, 'IsolationViolated');
    assert.match(v.message, /path\(s\) break tenant isolation/);
    assert.match(v.message, new RegExp(BRAVO[0]!));
    const ready = (await condition(c, 'Ready'))!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'IsolationViolated');
    assert.ok(await get(c, R.ap, ALPHA[0], 'hand-made-leak'), 'the hand-made policy is not ours: reported, not deleted');
    await c.request('DELETE', resourcePath(R.ap, ALPHA[0], 'hand-made-leak'));
    await waitReady(c, 'after the leak was removed');
    assert.equal((await condition(c, 'Verified'))!.status, 'True');
  });

  it('removing a tenant prunes exactly its objects; an unlabelled look-alike is untouched', async () => {
    const lookalike = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'lookalike', namespace: BRAVO[0]! },
      // AUDIT: changes no decision, so verify (which reads policies not ours too) still finds the tenants isolated.
      spec: { action: 'AUDIT', rules: [{}] },
    };
    await c.request('POST', resourcePath(R.ap, BRAVO[0]), { body: lookalike });
    const beforeAll = await desired();
    await applyCr(c, cr([TENANTS[0]!]));
    await waitReady(c, 'after removing bravo');
    const after = await desired();
    const keep = new Set(after.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    const gone = beforeAll.filter((o) => !keep.has(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    assert.ok(gone.length > 0);
    for (const o of gone) {
      const live = await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name);
      if (o.kind === 'Namespace') {
        assert.ok(live, `namespace ${o.metadata.name} is released, not deleted`);
        assert.equal(live.metadata.labels?.[MANAGED_BY], undefined);
      } else assert.equal(live, undefined, `${o.kind} ${o.metadata.namespace}/${o.metadata.name} pruned`);
    }
    for (const o of after)
      assert.ok(await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name), `${o.kind} ${o.metadata.name} kept`);
    assert.ok(await get(c, R.ap, BRAVO[0], 'lookalike'), 'look-alike without our labels untouched');
  });

  it('a spec error is Degraded with the message render gives (no FILE prefix), and nothing is written', async () => {
    const owned = await list(c, R.ap, `${MANAGED_BY}=${FIELD_MANAGER},${SPEC_LABEL}=${NAME}`);
    const rvs = new Map(owned.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o.metadata.resourceVersion as string]));
    // Valid for the CRD schema, refused by the loader's cross-field rules.
    await applyCr(
      c,
      cr([
        { name: 'alpha', namespaces: ALPHA },
        { name: 'sys', namespaces: ['istio-system'] },
      ]),
    );
    await waitUntil('Degraded=True InvalidSpec', async () => (await condition(c, 'Degraded'))?.reason === 'InvalidSpec');
    const d = (await condition(c, 'Degraded'))!;
    assert.equal(d.status, 'True');
    assert.match(d.message, /^spec\.tenants\[1\]\.namespaces\[0\]: namespace "istio-system" is a Knative or mesh system namespace/);
    assert.equal((await condition(c, 'Ready'))!.status, 'False');
    await sleep(1000);
    const now = await list(c, R.ap, `${MANAGED_BY}=${FIELD_MANAGER},${SPEC_LABEL}=${NAME}`);
    assert.deepEqual(
      new Map(now.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o.metadata.resourceVersion as string])),
      rvs,
      'no owned object written',
    );
    await applyCr(c, cr([TENANTS[0]!]));
    await waitReady(c, 'after fixing the spec');
  });

  it('SIGKILL mid-reconcile: the restarted controller converges', async () => {
    await applyCr(c, cr(TENANTS));
    await waitUntil(
      'the controller started on the change',
      async () =>
        (await list(c, R.namespace, `${SPEC_LABEL}=${NAME}`)).some((n) => n.metadata.name === BRAVO[0]) ||
        /reconcile ctl/.test(a!.stderr()),
      20_000,
    );
    a!.child.kill('SIGKILL');
    await a!.done;
    // Same identity: takes its own Lease back at once. A short Lease for the takeover test below.
    a = startController('replica-a', ['--lease-duration', '3s']);
    await a.port;
    await waitReady(c, 'after the restart', 120_000);
    for (const o of await desired())
      assert.ok(await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name), `${o.kind} ${o.metadata.name}`);
  });

  it('two controllers: one holds the Lease, the other stands by and writes nothing', async () => {
    b = startController('replica-b', ['--lease-duration', '3s']);
    const port = await b.port;
    await waitUntil('replica-b says it stands by', () => Promise.resolve(/standby/.test(b!.stderr())), 20_000);
    const lease = await c.request<{ spec: { holderIdentity: string } }>(
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/default/leases/serverless-mesh-controller',
    );
    assert.equal(lease.spec.holderIdentity, 'replica-a');
    // A change happens; only the leader reconciles it.
    const aps = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((x) => x.metadata.namespace === ALPHA[1]);
    await c.request('DELETE', resourcePath(R.ap, aps[0]!.metadata.namespace, aps[0]!.metadata.name));
    await waitUntil('restored by the leader', async () => !!(await get(c, R.ap, aps[0]!.metadata.namespace, aps[0]!.metadata.name)));
    const m = (await fetchText(port, '/metrics')).text;
    assert.doesNotMatch(m, /serverless_mesh_reconcile_total\{/, 'the standby ran no reconcile');
    assert.match(m, /serverless_mesh_leader 0/);
    assert.doesNotMatch(b.stderr(), /reconcile ctl/);
    assert.equal((await fetchText(port, '/readyz')).status, 200);
  });

  it('the Lease holder SIGKILLed: the standby takes over once the Lease expired, and reconciles', async () => {
    const leasePath = '/apis/coordination.k8s.io/v1/namespaces/default/leases/serverless-mesh-controller';
    type Lease = { spec: { holderIdentity: string; renewTime: string; acquireTime: string; leaseTransitions: number } };
    const before = await c.request<Lease>('GET', leasePath);
    assert.equal(before.spec.holderIdentity, 'replica-a');
    a!.child.kill('SIGKILL');
    await a!.done;
    const killed = await c.request<Lease>('GET', leasePath); // the last renewal a made
    await waitUntil(
      'replica-b holds the Lease',
      async () => (await c.request<Lease>('GET', leasePath)).spec.holderIdentity === 'replica-b',
      20_000,
    );
    const now = await c.request<Lease>('GET', leasePath);
    // Not before the Lease expired (renewTime + 3 s), by a new transition.
    assert.ok(
      Date.parse(now.spec.acquireTime) - Date.parse(killed.spec.renewTime) >= 3000,
      `acquired ${now.spec.acquireTime}, last renewal ${killed.spec.renewTime}`,
    );
    assert.equal(now.spec.leaseTransitions, killed.spec.leaseTransitions + 1);
    logs = () => b?.stderr() ?? '';
    await waitUntil('replica-b leads', () => Promise.resolve(/leading/.test(b!.stderr())), 10_000);
    const aps = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((x) => x.metadata.namespace === ALPHA[0]);
    const victim = aps[0]!;
    await c.request('DELETE', resourcePath(R.ap, victim.metadata.namespace, victim.metadata.name));
    await waitUntil('restored by the new leader', async () => !!(await get(c, R.ap, victim.metadata.namespace, victim.metadata.name)));
    await waitReady(c, 'under the new leader');
    const port = await b!.port;
    // The restore may come from the reconcile the new leader started on taking over: wait for it to be counted.
    await waitUntil('replica-b counted a Ready reconcile', async () =>
      /serverless_mesh_reconcile_total\{result="ready"\} [1-9]/.test((await fetchText(port, '/metrics')).text),
    );
    assert.match((await fetchText(port, '/metrics')).text, /serverless_mesh_leader 1/);
  });

  it('deleting the CR: the finalizer removes every owned object and releases the namespaces', async () => {
    const objs = await desired();
    await c.request('DELETE', resourcePath(CR_RESOURCE, undefined, NAME));
    await waitUntil('the CR is gone', async () => !(await get(c, CR_RESOURCE, undefined, NAME)), 60_000);
    for (const o of objs) {
      const live = await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name);
      if (o.kind === 'Namespace') assert.equal(live?.metadata.labels?.[SPEC_LABEL], undefined, `namespace ${o.metadata.name} released`);
      else assert.equal(live, undefined, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} deleted`);
    }
    assert.ok(await get(c, R.ap, BRAVO[0], 'lookalike'), 'look-alike still untouched');
  });
});
