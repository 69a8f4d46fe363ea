// Issue 13 §1: the report of 1,000 tenants (two namespaces each, as bench/verify.ts) is small enough to mail: under 10 MB.
// Measured 2026-12-02 (npm run bench:report): 6.5 MB (aggregated per tenant: ~5 MB of one-character cells, 1.5 MB of bundle).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { renderHtmlReport } from '../../src/report/html.ts';
import { tenantSpec } from '../../bench/tenant-spec.ts';

it('1,000 tenants × 2 namespaces: under 10 MB, aggregated per tenant', () => {
  const mesh = tenantSpec(1000, 2);
  const objects = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } });
  const model = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
  const tool = { name: 'serverless-mesh', version: '0.1.0', informationUri: 'https://github.com/serverless-mesh/serverless-mesh' };
  const res = renderHtmlReport({ model, source: '-f bench.yaml', findings: [], bundle: { title: 'Rendered bundle', objects }, tool });
  const bytes = Buffer.byteLength(res.html);
  assert.ok(bytes < 10 * 1024 * 1024, `${(bytes / 1024 / 1024).toFixed(1)} MB`);
  assert.match(res.html, /2000 source namespaces × 2000 Knative Services, aggregated by isolation unit/);
  assert.equal(res.leaks + res.broken + res.blocked, 0);
});
