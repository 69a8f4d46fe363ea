/**
 * migrate, offline: recoverSpec of each OSSM 2 example's objects renders exactly what the direct ossm3
 * render of the same intent renders; settings without an OSSM 3 form are listed; the plan's order and
 * its "already done?" checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/api/load.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { canonicalJson, withOwnership } from '../../src/cluster/plan.ts';
import { isOurs, keyOf } from '../../src/migrate/objects.ts';
import {
  isDone,
  LEFTOVER_SERVING_NETWORK_POLICIES,
  migrationPlan,
  pendingOf,
  ROLLED_ANNOTATION,
  type Live,
  type MigrationStep,
} from '../../src/migrate/plan.ts';
import { NotOssm2Error, recoverSpec } from '../../src/migrate/recover.ts';
import { render } from '../../src/render/index.ts';
import { emitYaml } from '../../src/render/yaml-emit.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';
import { DOCUMENTED_STEP_ORDER } from './step-order.ts';

const EXAMPLES = ['ossm2-basic', 'ossm2-tenants', 'ossm2-kafka'];

/** The cluster's apps domain, as OpenShift publishes it. */
const ingressConfig = (domain: string): KubeObject => ({
  apiVersion: 'config.openshift.io/v1',
  kind: 'Ingress',
  metadata: { name: 'cluster' },
  spec: { domain },
});

/** What `apply` of an OSSM 2 spec leaves on a cluster (our labels included). */
function ossm2State(mesh: ServerlessMesh): KubeObject[] {
  return [
    ...render(mesh, mesh.spec.tls.generate ? { tls: TEST_TLS } : {}).map((o) => withOwnership(o, mesh.metadata.name)),
    ingressConfig(mesh.spec.domain!),
  ];
}

/** The same intent on OSSM 3: flavour switched, control plane name and version back to the ossm3 defaults. */
function ossm3Intent(mesh: ServerlessMesh): ServerlessMesh {
  const m = structuredClone(mesh);
  m.spec.mesh.flavor = 'ossm3';
  delete (m.spec.mesh as { controlPlane?: string }).controlPlane;
  delete m.spec.mesh.version;
  return parseSpec('intent', emitYaml(m));
}

const sorted = (objs: KubeObject[]) => objs.map((o) => canonicalJson(o)).sort();
const valid = (m: ServerlessMesh) => parseSpec('recovered', emitYaml(m));

function liveOf(objects: KubeObject[], lists: Record<string, KubeObject[]> = {}): Live {
  const byKey = new Map(objects.map((o) => [keyOf(o), o]));
  return { get: (o) => byKey.get(keyOf(o)), list: (q) => lists[`${q.kind}/${q.namespace ?? ''}`] ?? [] };
}
const ready = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, generation: 1 },
  status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] },
});

describe('recoverSpec: OSSM 2 objects → the ossm3 spec of the same intent', () => {
  for (const name of EXAMPLES) {
    it(`${name}: render(recovered) equals the direct ossm3 render`, () => {
      const mesh = example(name);
      const rec = recoverSpec(ossm2State(mesh));
      const recovered = valid(rec.mesh);
      const intent = ossm3Intent(mesh);
      assert.deepEqual(recovered.spec, intent.spec);
      assert.equal(recovered.metadata.name, mesh.metadata.name, 'the spec label names the new spec, so apply keeps owning the objects');
      const tls = recovered.spec.tls.generate ? rec.tls : undefined;
      assert.deepEqual(
        sorted(render(recovered, tls ? { tls } : {})),
        sorted(render(intent, intent.spec.tls.generate ? { tls: TEST_TLS } : {})),
      );
      assert.deepEqual(
        rec.unmapped.filter((u) => u.blocking),
        [],
      );
    });
  }

  it('the copied certificate is the one the old gateway served', () => {
    const rec = recoverSpec(ossm2State(example('ossm2-tenants')));
    assert.deepEqual(rec.tls, TEST_TLS);
    const secret = render(valid(rec.mesh), { tls: rec.tls }).find((o) => o.kind === 'Secret')!;
    assert.equal(secret.metadata.namespace, 'knative-serving-ingress');
  });

  it('tenants come from the chart policies when namespaces carry no tenant label', () => {
    const objs = ossm2State(example('ossm2-tenants')).filter((o) => o.kind !== 'Namespace');
    assert.deepEqual(recoverSpec(objs).mesh.spec.tenants, example('ossm2-tenants').spec.tenants);
  });

  it('members: the member roll minus Knative, mesh and tenant namespaces', () => {
    const m = structuredClone(example('ossm2-tenants'));
    m.spec.members = ['apps-1', 'apps-2'];
    assert.deepEqual(recoverSpec(ossm2State(m)).mesh.spec.members, ['apps-1', 'apps-2']);
  });

  it('a half-migrated cluster (member roll already gone) recovers the same spec', () => {
    const m = structuredClone(example('ossm2-tenants'));
    m.spec.members = ['apps-1'];
    const before = valid(recoverSpec(ossm2State(m)).mesh);
    const ossm3 = render(before, { tls: TEST_TLS }).map((o) => withOwnership(o, m.metadata.name));
    const smcp = ossm2State(m).find((o) => o.kind === 'ServiceMeshControlPlane')!;
    const old = ossm2State(m).filter((o) => o.kind === 'Secret' || o.kind === 'Ingress');
    const again = valid(recoverSpec([smcp, ...old, ...ossm3]).mesh);
    assert.deepEqual(again, before);
  });

  it('not an OSSM 2 installation: a clear error', () => {
    assert.throws(() => recoverSpec([ingressConfig('x.example.com')]), NotOssm2Error);
  });
});

describe('recoverSpec: settings without an OSSM 3 equivalent are listed', () => {
  const base = () => ossm2State(example('ossm2-basic'));
  const smcpOf = (objs: KubeObject[]) => objs.find((o) => o.kind === 'ServiceMeshControlPlane')!;

  it('SMCP addons, tracing, ROSA identity, mtls off, custom and egress gateways, access logs, extra excluded ports', () => {
    const objs = base();
    const smcp = smcpOf(objs);
    const s = smcp.spec as Record<string, any>;
    s.version = 'v2.4';
    s.addons = { grafana: { enabled: false }, kiali: { enabled: true, name: 'kiali' }, prometheus: { enabled: true } };
    s.tracing = { type: 'Jaeger', sampling: 10000 };
    s.security.identity = { type: 'ThirdParty' };
    s.security.dataPlane.mtls = false;
    s.gateways.egress = { enabled: true };
    s.gateways.additionalIngress = { extra: { enabled: true } };
    s.proxy.accessLogging = { file: { name: '/dev/stdout' } };
    s.proxy.networking.trafficControl.inbound.excludedPorts = [8444, 8022, 15090];
    s.cluster = { multiCluster: { enabled: true } };
    const { unmapped } = recoverSpec(objs);
    const paths = unmapped.map((u) => u.path.replace(/^ServiceMeshControlPlane\/istio-system\/basic /, ''));
    for (const p of [
      'spec.version',
      'spec.addons.grafana',
      'spec.addons.kiali',
      'spec.addons.prometheus',
      'spec.tracing',
      'spec.security.identity.type',
      'spec.security.dataPlane.mtls',
      'spec.gateways.egress',
      'spec.gateways.additionalIngress',
      'spec.proxy.accessLogging',
      'spec.proxy.networking.trafficControl.inbound.excludedPorts',
      'spec.cluster',
    ])
      assert.ok(paths.includes(p), `${p} listed (got ${paths.join(', ')})`);
    const kiali = unmapped.find((u) => u.path.endsWith('addons.kiali'))!;
    assert.deepEqual(kiali.value, { enabled: true, name: 'kiali' });
    assert.match(kiali.reason, /install it separately/);
    assert.match(unmapped.find((u) => u.path.endsWith('excludedPorts'))!.reason, /15090/);
    assert.deepEqual(
      unmapped.filter((u) => u.blocking),
      [],
    );
  });

  it('the recipe SMCP of the research (§3: tracing None, addons off, access log) lists those, nothing else', () => {
    const objs = base();
    const s = smcpOf(objs).spec as Record<string, any>;
    s.version = 'v2.4';
    s.tracing = { type: 'None' };
    s.addons = { grafana: { enabled: false }, kiali: { enabled: false }, prometheus: { enabled: false } };
    s.proxy.accessLogging = { file: { name: '/dev/stdout', format: '{}' } };
    const paths = recoverSpec(objs).unmapped.map((u) => u.path.split(' ')[1]);
    assert.deepEqual(paths.sort(), [
      'spec.addons.grafana',
      'spec.addons.kiali',
      'spec.addons.prometheus',
      'spec.proxy.accessLogging',
      'spec.tracing',
      'spec.version',
    ]);
  });

  it('Kourier mode is listed and blocking; maistra.io/member-of labels and custom Gateways are listed', () => {
    const objs = ossm2State(example('kourier'));
    objs.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'serving-tests', labels: { 'maistra.io/member-of': 'istio-system' } },
    });
    objs.push({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'Gateway',
      metadata: { name: 'my-gw', namespace: 'apps' },
      spec: { selector: { istio: 'ingressgateway' } },
    });
    const { unmapped } = recoverSpec(objs);
    const kourier = unmapped.find((u) => u.path.endsWith('spec.ingress'))!;
    assert.equal(kourier.blocking, true);
    assert.ok(unmapped.some((u) => u.path.startsWith('Namespace/serving-tests') && u.value === 'istio-system'));
    assert.ok(unmapped.some((u) => u.path === 'Gateway/apps/my-gw' && /custom Gateway/.test(u.reason)));
  });

  it('no domain anywhere while a certificate is to be copied: blocking, so --apply refuses', () => {
    const objs = base().filter((o) => o.kind !== 'Ingress');
    const rec = recoverSpec(objs);
    assert.equal(rec.mesh.spec.tls.generate, false);
    assert.ok(rec.unmapped.some((u) => u.path === 'spec.domain' && u.blocking));
  });
});

describe('migrationPlan', () => {
  const mesh0 = example('ossm2-tenants');
  const current = ossm2State(mesh0);
  const rec = recoverSpec(current);
  const mesh = valid(rec.mesh);
  const steps = migrationPlan(current, mesh, { tls: rec.tls! });
  const byId = (id: string) => steps.find((s) => s.id === id)!;

  it('steps in the documented order, each object of the bundle applied exactly once', () => {
    assert.deepEqual(
      steps.map((s) => s.id),
      DOCUMENTED_STEP_ORDER,
    );
    const applied = steps.flatMap((s) => s.apply).map(keyOf);
    assert.deepEqual([...applied].sort(), render(mesh, { tls: rec.tls! }).map(keyOf).sort());
    assert.equal(new Set(applied).size, applied.length);
    assert.deepEqual(
      byId('control-plane').waitReady.map((o) => o.kind),
      ['Istio', 'IstioCNI'],
    );
    assert.deepEqual(
      byId('knative').waitReady.map((o) => o.kind),
      ['KnativeServing', 'KnativeEventing'],
    );
    // Policies only after the Knative CRs are Ready (research §9.10).
    assert.ok(steps.indexOf(byId('authorization-policies')) > steps.indexOf(byId('knative')));
  });

  it('on the untouched OSSM 2 state nothing is done yet; a step whose objects are live and Ready is done', () => {
    const live = liveOf(current);
    for (const s of steps.slice(0, 5)) assert.ok(!isDone(s, live), s.id);
    const cp = byId('control-plane');
    assert.ok(!isDone(cp, liveOf(cp.apply.map((o) => withOwnership(o, 'tenants')))), 'applied but not Ready is not done');
    assert.ok(isDone(cp, liveOf(cp.apply.map((o) => ready(withOwnership(o, 'tenants'))))));
    const ns = byId('namespaces');
    const changed = ns.apply.map((o) => structuredClone(o));
    changed[0]!.metadata.labels = {};
    assert.deepEqual(pendingOf(ns, liveOf(changed)), [`Namespace/${changed[0]!.metadata.name} differs`]);
  });

  it('routes: only Knative Routes of the old gateway in the old namespace are deleted', () => {
    const route = (name: string, to: string): KubeObject => ({
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: { name, namespace: 'istio-system', labels: { 'serving.knative.openshift.io/ingressName': 'hello' } },
      spec: { to: { kind: 'Service', name: to } },
    });
    const s = byId('routes');
    const live = liveOf([], { 'Route/istio-system': [route('route-a', 'istio-ingressgateway'), route('route-b', 'my-own-router')] });
    assert.deepEqual(
      s.actions(live).map((a) => `${a.type} ${a.target.metadata.name}`),
      ['delete route-a'],
    );
    assert.ok(isDone(s, liveOf([], { 'Route/istio-system': [route('route-b', 'my-own-router')] })));
  });

  it('roll: a fixed pod-template annotation, so a rolled workload is not rolled again', () => {
    const s = byId('roll-knative-workloads');
    const dep = (name: string, annotations?: Record<string, string>): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'knative-serving' },
      spec: { template: { metadata: annotations ? { annotations } : {} } },
    });
    const acts = s.actions(
      liveOf([], {
        'Deployment/knative-serving': [dep('activator'), dep('controller'), dep('autoscaler', { [ROLLED_ANNOTATION]: 'ossm3/default' })],
      }),
    );
    assert.deepEqual(
      acts.map((a) => a.target.metadata.name),
      ['activator'],
      'controllers are not injected; autoscaler already rolled',
    );
    assert.deepEqual((acts[0] as { patch: unknown }).patch, {
      spec: { template: { metadata: { annotations: { [ROLLED_ANNOTATION]: 'ossm3/default' } } } },
    });
  });

  it('leftover NetworkPolicies: exactly the three the operator leaves in knative-serving', () => {
    const s = byId('operator-network-policies');
    const np = (name: string, namespace = 'knative-serving'): KubeObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
    });
    const live = liveOf([...LEFTOVER_SERVING_NETWORK_POLICIES.map((n) => np(n)), np('mine'), np('webhook', 'knative-eventing')]);
    assert.deepEqual(
      s
        .actions(live)
        .map((a) => keyOf(a.target))
        .sort(),
      LEFTOVER_SERVING_NETWORK_POLICIES.map((n) => `networking.k8s.io/NetworkPolicy/knative-serving/${n}`).sort(),
    );
  });

  it('member roll: deleted whoever created it; last data-plane step', () => {
    const s = byId('member-roll');
    const smmr = current.find((o) => o.kind === 'ServiceMeshMemberRoll')!;
    const unlabelled = { ...smmr, metadata: { name: smmr.metadata.name, namespace: smmr.metadata.namespace } };
    assert.deepEqual(
      s.actions(liveOf([], { 'ServiceMeshMemberRoll/istio-system': [unlabelled] })).map((a) => a.type),
      ['delete'],
    );
  });

  it('old control plane: kept and released by default, deleted only with deleteControlPlane; stale objects of ours deleted', () => {
    const smcp = current.find((o) => o.kind === 'ServiceMeshControlPlane')!;
    const stale = current.filter((o) => o.kind === 'Service' && o.metadata.namespace === 'istio-system');
    assert.equal(stale.length, 1, 'the OSSM 2 knative-local-gateway Service');
    const live = liveOf([smcp, ...stale, current.find((o) => o.kind === 'Secret')!]);
    const keep = byId('old-control-plane').actions(live);
    assert.deepEqual(keep.map((a) => `${a.type} ${a.target.kind}`).sort(), [
      'delete Secret',
      'delete Service',
      'merge-patch ServiceMeshControlPlane',
    ]);
    const patch = keep.find((a) => a.type === 'merge-patch') as unknown as { patch: { metadata: { labels: Record<string, null> } } };
    assert.equal(patch.patch.metadata.labels['app.kubernetes.io/managed-by'], null);
    // Released: nothing left to do for it.
    const released = { ...smcp, metadata: { name: smcp.metadata.name, namespace: smcp.metadata.namespace } };
    assert.ok(!isOurs(released));
    assert.deepEqual(byId('old-control-plane').actions(liveOf([released])), []);
    // The user's own SMCP (never ours) is not touched without the flag…
    const planDel = migrationPlan(current, mesh, { tls: rec.tls!, deleteControlPlane: true });
    assert.deepEqual(
      planDel
        .at(-1)!
        .actions(liveOf([released]))
        .map((a) => `${a.type} ${a.target.kind}`),
      ['delete ServiceMeshControlPlane'],
      '…and deleted with it',
    );
  });

  it('a step is idempotent: once done, it has no actions left', () => {
    const all: MigrationStep[] = steps;
    const live = liveOf(all.flatMap((s) => [...s.apply, ...s.waitReady]).map((o) => ready(withOwnership(o, mesh.metadata.name))));
    for (const s of all) assert.deepEqual(pendingOf(s, live), [], s.id);
  });
});
