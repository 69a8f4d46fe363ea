// The Verifier selects a destination's policies through an index by the selector's first label in
// namespaces with many policies (the eventing receivers share knative-eventing's tens of thousands);
// it must keep exactly what policiesFor keeps, in the same order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GATEWAY_NAME_LABEL, policiesFor } from '../../src/authz/evaluate.ts';
import { modelFromObjects, type Workload } from '../../src/authz/knative.ts';
import { Verifier } from '../../src/verify/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';

const ap = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace },
  spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['a'] } }] }], ...spec },
});

test('policies selected through the selector index are those policiesFor selects, in input order', () => {
  const objects: KubeObject[] = [];
  const shapes: Array<(i: number) => Record<string, unknown>> = [
    () => ({}),
    () => ({ selector: {} }),
    () => ({ selector: { matchLabels: {} } }),
    () => ({ selector: { matchLabels: { app: 'recv' } } }),
    () => ({ selector: { matchLabels: { app: 'recv', tier: 'a' } } }),
    () => ({ selector: { matchLabels: { tier: 'a', app: 'recv' } } }),
    () => ({ selector: { matchLabels: { app: 'recv', tier: 'b' } } }),
    () => ({ selector: { matchLabels: { app: 'other' } } }),
    () => ({ selector: { matchLabels: { tier: 'a' } } }),
    () => ({ selector: { matchLabels: { app: 'recv' } }, action: 'DENY' }),
    (i) => ({ targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: `gw-${i % 3}` }] }),
    () => ({
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw-0' },
      selector: { matchLabels: { app: 'recv' } },
    }),
  ];
  for (let i = 0; i < 150; i++) {
    const ns = i % 5 === 0 ? 'istio-system' : 'eventing';
    const o = ap(ns, `p-${i}`, shapes[i % shapes.length]!(i));
    if (i % 7 === 0) o.metadata.annotations = { 'istio.io/dry-run': 'true' };
    objects.push(o);
  }
  const m = modelFromObjects(objects, { flavor: 'istio' });
  const labelSets: Array<Record<string, string>> = [
    { app: 'recv', tier: 'a' },
    { app: 'recv', tier: 'b' },
    { app: 'recv' },
    { tier: 'a' },
    { app: 'other', tier: 'a' },
    {},
    { app: 'recv', tier: 'a', [GATEWAY_NAME_LABEL]: 'gw-0' },
    { [GATEWAY_NAME_LABEL]: 'gw-1' },
  ];
  const workloads: Workload[] = labelSets.map((labels, i) => ({
    name: `w-${i}`,
    namespace: 'eventing',
    serviceAccount: 'default',
    labels,
    sidecar: true,
    excludedPorts: [],
  }));
  const v = new Verifier(m);
  let selected = 0;
  for (const w of workloads) {
    const want = policiesFor(m.config.policies, w.namespace, w.labels, m.mesh).map((p) => `${p.namespace}/${p.name}`);
    // No rule names hosts: the live set is every selected policy, unpruned.
    const got = v.live(w, 'recv.eventing.svc.cluster.local').policies.map((p) => `${p.namespace}/${p.name}`);
    assert.deepEqual(got, want, JSON.stringify(w.labels));
    selected += got.length;
  }
  // The fixture selects something, and not everything, for the workloads together.
  assert.ok(selected > 0 && selected < workloads.length * 150);
});
