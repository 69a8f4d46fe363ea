// bench/verify speed work (issue 12 §4): the restructured grouping (sources per isolation unit,
// member sets, eventing's named sources visited through an index) must give exactly the report the
// quadratic code gave, and named sources matching the same policy fields share one evaluation. The digest below was taken from the report of commit 01d3a40 (before the
// change) on this generated configuration; any change of rows, order, findings or counts fails it. The counted
// digest was retaken once when counting-mode findings gained the deciding hop (they had hop ''); the report was
// otherwise byte-identical to the previous one with hops blanked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { meshReadyKsvc } from '../../src/render/ksvc.ts';
import { unitOf, verifyModel } from '../../src/verify/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { tenantSpec } from '../../bench/tenant-spec.ts';

function generated() {
  const mesh = tenantSpec(40, 2, '  members: [shared-a, shared-b, tools]\n');
  const objects: KubeObject[] = render(mesh);
  for (let i = 0; i < 30; i++)
    objects.push(meshReadyKsvc({ name: `app-${i}`, namespace: `tenant-${i % 40}-ns-${i % 2}`, image: 'quay.io/example/app:1' }));
  objects.push(meshReadyKsvc({ name: 'tool', namespace: 'tools', image: 'quay.io/example/app:1' }));
  // A policy that names a few sources at the broker ingress and at one revision, so classes are not all "everyone else".
  objects.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'extra', namespace: 'knative-eventing' },
    spec: {
      action: 'DENY',
      selector: { matchLabels: { 'app.kubernetes.io/component': 'broker-ingress' } },
      rules: [{ from: [{ source: { namespaces: ['tenant-3-ns-0', 'shared-a'] } }], to: [{ operation: { paths: ['/tenant-7-ns-1/*'] } }] }],
    },
  });
  objects.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'extra-allow', namespace: 'tenant-5-ns-0' },
    spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['tenant-9-ns-1', 'tools'] } }] }] },
  });
  return modelFromObjects(objects, { tenants: mesh.spec.tenants, members: mesh.spec.members, flavor: 'ossm2' });
}

// `stats.evaluations` counts the work done, not a result: it is left out (the speed work lowers it).
const digest = (v: { stats: object }) =>
  createHash('sha256')
    .update(JSON.stringify({ ...v, stats: { ...v.stats, evaluations: 0 } }))
    .digest('hex');

test('a large generated configuration gives the same report as before the speed work', () => {
  const m = generated();
  const rep = verifyModel(m);
  const { byTarget: _b, ...rest } = rep;
  const full = digest(rest);
  const counted = verifyModel(m, { expandRows: false });
  const { byTarget: _c, ...restCounted } = counted;
  assert.equal(rep.paths.length, m.sources.length * m.ksvcs.length * 5);
  assert.ok(rep.eventing.length > 0);
  assert.deepEqual(
    { full, counted: digest(restCounted) },
    {
      full: '0ef9a2f22816691d4343c8af7c9e3914a25a5fc28b8ebd716b35d3f42dfcfe7d',
      counted: '6bf304ed173c82ccf59286a2d62cc16fc6a022b9dd012115e347802d19e6e035',
    },
  );
});

test('stated expectations list the same sources as filtering every source by its unit', () => {
  const m = generated();
  for (const e of verifyModel(m, { expandRows: false }).expectations) {
    const u = unitOf(m, e.namespace);
    assert.deepEqual(
      e.allowedFrom,
      m.sources.filter((s) => unitOf(m, s) === u),
      e.namespace,
    );
  }
});
