// The Verifier prunes a destination's rules by host before evaluating; a rule it drops must be one
// that cannot match. `*abc` is a suffix match and matches the host `abc` itself (matchString; Envoy's
// suffix matcher), so a DENY naming `*<the whole host>` must still deny.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRequest } from '../../src/authz/evaluate.ts';
import { callerIn, modelFromObjects, pathHops } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { hopRequest, Verifier } from '../../src/verify/index.ts';
import { tenantSpec } from '../../bench/tenant-spec.ts';

test('a host pattern `*<whole host>` is not pruned away: the Verifier decides as the unpruned evaluation', () => {
  const mesh = tenantSpec(2, 1);
  const objects = render(mesh);
  objects.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'deny-whole-host-suffix', namespace: 'knative-serving' },
    spec: {
      action: 'DENY',
      selector: { matchLabels: { app: 'activator' } },
      rules: [{ to: [{ operation: { hosts: ['*ksvc.tenant-0-ns-0.svc.cluster.local'] } }] }],
    },
  });
  const m = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
  const k = m.ksvcs.find((x) => x.namespace === 'tenant-0-ns-0')!;
  const hop = pathHops(m, callerIn('tenant-0-ns-0'), k, 'activator', 'proxy')[0]!;
  assert.equal(hop.host, 'ksvc.tenant-0-ns-0.svc.cluster.local');
  const unpruned = checkRequest(hopRequest(hop), m.config, m.mesh);
  assert.equal(unpruned.decision, 'DENY');
  const r = new Verifier(m).evalHop(hop);
  assert.deepEqual(
    { decision: r.decision, policy: r.policy, reason: r.reason },
    { decision: unpruned.decision, policy: 'knative-serving/deny-whole-host-suffix', reason: unpruned.reason },
  );
});
