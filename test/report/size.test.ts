// Issue 13 §1: the report of 1,000 tenants (two namespaces each, as bench/verify.ts) is small enough to mail: under 10 MB.
// Measured 2026-12-02: 6.5 MB (npm run bench:report; ~5 MB of one-character cells, 1.5 MB of bundle); 6.9 MB without any policy (every cross-tenant pair leaks).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { renderHtmlReport } from '../../src/report/html.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { tenantSpec } from '../../bench/tenant-spec.ts';

const MB = 1024 * 1024;
const tool = { name: 'serverless-mesh', version: '0.1.0', informationUri: 'https://github.com/serverless-mesh/serverless-mesh' };

function report(keep: (o: KubeObject) => boolean) {
  const mesh = tenantSpec(1000, 2);
  const objects = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } }).filter(keep);
  const model = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
  return renderHtmlReport({ model, source: '-f bench.yaml', findings: [], bundle: { title: 'Rendered bundle', objects }, tool });
}

describe('1,000 tenants × 2 namespaces: under 10 MB, aggregated per tenant', () => {
  it('isolated (the rendered policies)', () => {
    const res = report(() => true);
    const bytes = Buffer.byteLength(res.html);
    assert.ok(bytes < 10 * MB, `${(bytes / MB).toFixed(1)} MB`);
    assert.match(res.html, /2000 source namespaces × 2000 Knative Services, aggregated by isolation unit/);
    assert.equal(res.leaks + res.broken + res.blocked, 0);
  });
  it('no AuthorizationPolicy at all: every cross-tenant pair leaks, the marked-up exceptions are bounded', () => {
    const res = report((o) => o.kind !== 'AuthorizationPolicy');
    const bytes = Buffer.byteLength(res.html);
    assert.ok(bytes < 10 * MB, `${(bytes / MB).toFixed(1)} MB`);
    // 2,000 × 1,998 cross-tenant namespace pairs on each of the three in-mesh paths, plus the eventing paths verify lists.
    assert.equal(res.leaks, 3 * 2000 * 1998 + 1000);
    assert.match(res.html, /\(of which on eventing paths: 1000 and 0, verify lists at most 1000\)/);
    assert.match(res.html, /<strong>999000 unit pairs break their expectation on this path<\/strong>; the first 2000 are marked in colour/);
  });
});
