// Issue 10 §3: verify defects found when the tool was tried against the seeds, each pinned by a test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelFromObjects, type KnativeModel } from '../../src/authz/knative.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { render } from '../../src/render/index.ts';
import { verifyModel } from '../../src/verify/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';

function modelOf(mesh: ServerlessMesh, extra: KubeObject[] = []): KnativeModel {
  const objects = [...render(mesh, { tls: TEST_TLS }), ...extra];
  return modelFromObjects(objects, {
    flavor: mesh.spec.mesh.flavor,
    tenants: mesh.spec.tenants,
    members: mesh.spec.members,
    domain: mesh.spec.domain,
    serving: mesh.spec.serving.enabled,
    eventing: mesh.spec.eventing.enabled,
  });
}

const withMembers = (): ServerlessMesh => {
  const m = structuredClone(example('ossm2-tenants'));
  m.spec.members = ['shared-tools'];
  return m;
};

describe('non-tenant members are destinations with a stated expectation', () => {
  it('every mesh namespace is a destination', () => {
    const m = modelOf(withMembers());
    assert.ok(
      m.ksvcs.some((k) => k.namespace === 'shared-tools'),
      `targets: ${m.ksvcs.map((k) => k.namespace).join(', ')}`,
    );
  });
  it('the report states the expectation for a member outside every tenant', () => {
    const rep = verifyModel(modelOf(withMembers()));
    const e = rep.expectations.find((x) => x.namespace === 'shared-tools');
    assert.deepEqual(e && { unit: e.unit, kind: e.kind }, { unit: 'shared-tools', kind: 'member' });
    // Paths into the member carry an expectation: its own namespace allowed, tenants denied.
    const row = rep.paths.find((p) => p.from === 'team-alpha-1' && p.to === 'shared-tools/ksvc' && p.via === 'direct');
    assert.ok(row);
  });
  it('what the render does to a member is reported (it is reachable from tenants directly, not from itself via the activator)', () => {
    const rep = verifyModel(modelOf(withMembers()));
    const member = rep.findings.filter((f) => f.resource.namespace === 'shared-tools');
    assert.ok(
      member.some((f) => f.code === 'SM5001' && f.reachability?.via === 'direct' && f.reachability.from.startsWith('team-')),
      JSON.stringify(member.map((f) => f.message)),
    );
    assert.ok(member.some((f) => f.code === 'SM5002' && f.reachability?.via === 'activator' && f.reachability.from === 'shared-tools'));
  });
  it('without tenants a member carries no isolation expectation (seed chapter 1 promises none)', () => {
    const rep = verifyModel(modelOf(example('ossm2-basic')));
    assert.deepEqual(rep.surprises, []);
  });
});

describe('serving.enabled: false', () => {
  const mesh = (): ServerlessMesh => {
    const m = structuredClone(example('ossm2-tenants'));
    m.spec.serving = { enabled: false };
    m.spec.eventing = { enabled: true };
    return m;
  };
  it('knative-eventing is not mistaken for a tenant namespace', () => {
    const m = modelOf(mesh());
    assert.equal(m.tenantOf.get('knative-eventing'), undefined);
    assert.ok(!m.sources.includes('knative-eventing'));
  });
  it('no Knative Service paths or serving edges are expected, so no false BROKEN/BLOCKED', () => {
    const rep = verifyModel(modelOf(mesh()));
    assert.deepEqual(
      rep.surprises.filter((s) => !s.startsWith('LEAK')),
      [],
    );
    assert.equal(rep.requiredEdges.length, 0);
  });
  it('also from manifests alone: a KnativeEventing without KnativeServing means serving is off', () => {
    const objects = render(mesh(), { tls: TEST_TLS });
    const m = modelFromObjects(objects);
    assert.equal(m.tenantOf.get('knative-eventing'), undefined);
    assert.equal(m.ksvcs.length, 0);
  });
});

describe('eventing paths', () => {
  const rep = () => verifyModel(modelOf(example('ossm2-tenants')));
  const row = (r: ReturnType<typeof rep>, from: string, to: string, via: string) => {
    const x = r.eventing.find((e) => e.from === from && e.to === to && e.via === via);
    assert.ok(x, `${from} → ${to} via ${via}: no row (have ${r.eventing.length})`);
    return x;
  };
  it('same-tenant POST to broker-ingress allowed, cross-tenant denied', () => {
    const r = rep();
    assert.equal(row(r, 'team-alpha-1', 'team-alpha-2/default', 'broker-ingress').allowed, true);
    assert.equal(row(r, 'team-bravo-1', 'team-alpha-2/default', 'broker-ingress').allowed, false);
  });
  it("a spoofed Kn-Namespace header does not get a tenant into another tenant's broker", () => {
    const r = rep();
    assert.equal(row(r, 'team-bravo-1', 'team-alpha-1/default', 'spoofed-kn-namespace').allowed, false);
  });
  it('channel and sinks follow the tenant boundary; the broker filter delivers to the tenant', () => {
    const r = rep();
    assert.equal(row(r, 'team-alpha-1', 'team-alpha-1/channel', 'channel').allowed, true);
    assert.equal(row(r, 'team-bravo-2', 'team-alpha-1/channel', 'channel').allowed, false);
    assert.equal(row(r, 'team-alpha-2', 'team-alpha-1/sink', 'job-sink').allowed, true);
    assert.equal(row(r, 'team-bravo-1', 'team-alpha-1/sink', 'job-sink').allowed, false);
    assert.equal(row(r, 'knative-eventing', 'team-alpha-1/ksvc', 'event-delivery').allowed, true);
  });
  it('the seed render has no eventing surprise', () => {
    const r = rep();
    assert.deepEqual(r.surprises, []);
  });
  it('a receiver rule with a path template ({*}) is not pruned: its leak is reported', () => {
    // Istio path templates: `{*}` matches one segment (authorization-policy reference, Operation.paths).
    const open: KubeObject = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'open-broker', namespace: 'knative-eventing' },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/component': 'broker-ingress' } },
        rules: [{ from: [{ source: { namespaces: ['team-bravo-1'] } }], to: [{ operation: { paths: ['/{*}/default'] } }] }],
      },
    };
    const r = verifyModel(modelOf(example('ossm2-tenants'), [open]));
    const x = row(r, 'team-bravo-1', 'team-alpha-1/default', 'broker-ingress');
    assert.equal(x.allowed, true, x.reason);
    assert.equal(x.policy, 'knative-eventing/open-broker');
    assert.ok(
      r.surprises.some((s) => s.startsWith('LEAK team-bravo-1 → team-alpha-1/default via broker-ingress')),
      r.surprises.join('\n'),
    );
  });
});

describe('Knative Kafka eventing paths (Kafka-class Broker, KafkaChannel, KafkaSink)', () => {
  const withKafka = (parts: { broker: boolean; channel: boolean; sink: boolean }): ServerlessMesh => {
    const m = structuredClone(example('ossm2-tenants'));
    m.spec.kafka = {
      enabled: true,
      bootstrapServers: ['my-cluster-kafka-bootstrap.kafka:9092'],
      numPartitions: 3,
      replicationFactor: 1,
      ports: [9092],
      source: true,
      ...parts,
    };
    return m;
  };
  const all = () => verifyModel(modelOf(withKafka({ broker: true, channel: true, sink: true })));
  const row = (r: ReturnType<typeof all>, from: string, to: string, via: string) => {
    const x = r.eventing.find((e) => e.from === from && e.to === to && e.via === via);
    assert.ok(x, `${from} → ${to} via ${via}: no row (have ${[...new Set(r.eventing.map((e) => e.via))].join(', ')})`);
    return x;
  };
  it('a tenant reaches its own Kafka broker and channel, never another tenant’s', () => {
    const r = all();
    assert.equal(row(r, 'team-alpha-2', 'team-alpha-1/kafka', 'kafka-broker').allowed, true);
    assert.equal(row(r, 'team-bravo-1', 'team-alpha-1/kafka', 'kafka-broker').allowed, false);
    assert.equal(row(r, 'team-alpha-1', 'team-alpha-1/kafka-channel', 'kafka-channel').allowed, true);
    assert.equal(row(r, 'team-bravo-2', 'team-alpha-1/kafka-channel', 'kafka-channel').allowed, false);
    assert.equal(row(r, 'team-bravo-1', 'team-bravo-2/sink', 'kafka-sink').allowed, true);
    assert.equal(row(r, 'team-alpha-1', 'team-bravo-2/sink', 'kafka-sink').allowed, false);
    assert.deepEqual(r.surprises, []);
  });
  it('only the receivers the KnativeKafka CR enables are paths', () => {
    const r = verifyModel(modelOf(withKafka({ broker: true, channel: false, sink: false })));
    const vias = new Set(r.eventing.map((e) => e.via));
    assert.ok(vias.has('kafka-broker'));
    assert.ok(!vias.has('kafka-channel') && !vias.has('kafka-sink'), [...vias].join(', '));
  });
  it('a receiver policy that forgets the tenant boundary is a leak on that path', () => {
    const open: KubeObject = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'open-kafka-channel', namespace: 'knative-eventing' },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/component': 'kafka-channel-receiver' } },
        rules: [{ from: [{ source: { namespaces: ['team-bravo-1'] } }] }],
      },
    };
    const r = verifyModel(modelOf(withKafka({ broker: true, channel: true, sink: true }), [open]));
    assert.equal(row(r, 'team-bravo-1', 'team-alpha-1/kafka-channel', 'kafka-channel').allowed, true);
    assert.equal(row(r, 'team-bravo-1', 'team-alpha-1/kafka', 'kafka-broker').allowed, false);
    assert.ok(
      r.findings.some((f) => f.reachability?.via === 'kafka-channel' && f.reachability.from === 'team-bravo-1' && f.code === 'SM5001'),
      JSON.stringify(r.findings.map((f) => [f.code, f.reachability])),
    );
  });
});

describe('counting mode (large meshes) reports leaks as expanded mode does', () => {
  it('the deciding hop is named, and a single leaking source is not "(+0 more)"', () => {
    const letBravoIn: KubeObject = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'let-bravo-in', namespace: 'team-alpha-1' },
      spec: { rules: [{ from: [{ source: { namespaces: ['team-bravo-1'] } }] }] },
    };
    const m = modelOf(example('ossm2-tenants'), [letBravoIn]);
    const counted = verifyModel(m, { expandRows: false }).findings.filter((f) => f.code === 'SM5001' && f.reachability?.via === 'direct');
    const expanded = verifyModel(m, { expandRows: true }).findings.filter((f) => f.code === 'SM5001' && f.reachability?.via === 'direct');
    assert.ok(counted.length > 0, 'the leak is found');
    for (const f of counted) {
      assert.doesNotMatch(f.message, /\+0 more/);
      const same = expanded.find((e) => e.reachability?.from === f.reachability?.from && e.reachability?.to === f.reachability?.to);
      assert.ok(same, `expanded mode has ${f.reachability?.from} → ${f.reachability?.to}`);
      assert.equal(f.reachability?.hop, same.reachability?.hop);
      assert.notEqual(f.reachability?.hop, '');
      assert.equal(f.reachability?.policy, 'team-alpha-1/let-bravo-in');
    }
  });
});
