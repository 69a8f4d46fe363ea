// Issue 12 §2, last point, for Knative hops: DestinationRule portLevelSettings are keyed by the Service
// port the client calls (destination_rule.proto PortTrafficPolicy.port), as is the default SNI. The
// revision Services and activator-service expose 80 → 8012 (knative.dev/serving networking
// ServiceHTTPPort → BackendHTTPPort), so a port-level setting on 80 applies to the queue-proxy and
// activator hops and one on 8012 (a container port, not a Service port) does not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerIn, modelFromObjects, pathHops, requiredEdges } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { hopRequest, verifyModel } from '../../src/verify/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { tenantSpec } from '../../bench/tenant-spec.ts';

const dr = (port: number): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: `plain-${port}`, namespace: 'tenant-1-ns-0' },
  spec: {
    host: '*.tenant-1-ns-0.svc.cluster.local',
    trafficPolicy: { portLevelSettings: [{ port: { number: port }, tls: { mode: 'DISABLE' } }] },
  },
});

function model(extra: KubeObject[]) {
  const mesh = tenantSpec(2, 1);
  return modelFromObjects([...render(mesh), ...extra], { tenants: mesh.spec.tenants, flavor: 'ossm2' });
}

const row = (extra: KubeObject[], via: 'direct' | 'activator') => {
  const rep = verifyModel(model(extra));
  return rep.paths.find((p) => p.from === 'tenant-1-ns-0' && p.to === 'tenant-1-ns-0/ksvc' && p.via === via)!;
};

test('Knative hops call the revision Service on port 80 (→ 8012) and the metrics / admin ports by number', () => {
  const m = model([]);
  const k = m.ksvcs.find((x) => x.namespace === 'tenant-1-ns-0')!;
  for (const via of ['direct', 'activator', 'local-gateway'] as const)
    for (const variant of via === 'direct' ? (['serve'] as const) : (['proxy'] as const))
      for (const h of pathHops(m, callerIn('tenant-0-ns-0'), k, via, variant)) {
        assert.equal(h.port, 8012, h.label);
        assert.equal(hopRequest(h).destination.servicePort, 80, h.label);
      }
  const ports = requiredEdges(m, k)
    .flatMap((e) => e.alternatives.flatMap((a) => a.hops))
    .filter((h) => h.dest === k.pod)
    .map((h) => [h.port, h.servicePort]);
  assert.deepEqual(
    [...new Map(ports.map((p) => [String(p), p])).values()].sort(),
    [
      [8012, 80],
      [8022, 8022],
      [9090, 9090],
    ].sort(),
  );
});

test('a port-level DestinationRule on the Service port 80 decides the client TLS of Knative hops', () => {
  // The caller's sidecar sends plaintext to the revision (DISABLE on port 80); STRICT mTLS at the pod refuses it.
  const direct = row([dr(80)], 'direct');
  assert.equal(direct.allowed, false);
  assert.match(direct.reason, /STRICT mTLS.*DestinationRule tenant-1-ns-0\/plain-80 sets tls DISABLE/);
  const viaActivator = row([dr(80)], 'activator');
  assert.equal(viaActivator.allowed, false, viaActivator.reason);
});

test('a port-level DestinationRule keyed by the workload port 8012 does not apply (8012 is no Service port)', () => {
  assert.equal(row([dr(8012)], 'direct').allowed, true);
  assert.equal(row([dr(8012)], 'activator').allowed, true);
  assert.equal(row([], 'direct').allowed, true);
});
