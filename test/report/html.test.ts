// The HTML report as a string (src/report/html.ts): escaping, self-containment, the aggregated layout
// with its drill-downs, and the limits that keep it small. The browser tests are in report.browser.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/api/load.ts';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { esc, renderHtmlReport, type HtmlReportInput } from '../../src/report/html.ts';
import type { Finding } from '../../src/report/finding.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { tenantSpecText } from '../../bench/tenant-spec.ts';

const TOOL = { name: 'serverless-mesh', version: '0.1.0', informationUri: 'https://github.com/serverless-mesh/serverless-mesh' };

/** `tenants` tenants of `perTenant` namespaces; `leak`: tenant-0's first namespace also lets tenant-1's first in. */
function input(tenants: number, perTenant: number, opts: { leak?: boolean; extra?: KubeObject[] } = {}): HtmlReportInput {
  const mesh = parseSpec('spec.yaml', tenantSpecText(tenants, perTenant));
  const objects = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } });
  if (opts.leak)
    objects.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'let-tenant-1-in', namespace: 'tenant-0-ns-0' },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['tenant-1-ns-0'] } }] }] },
    });
  objects.push(...(opts.extra ?? []));
  const model = modelFromObjects(objects, { flavor: 'ossm2', tenants: mesh.spec.tenants, domain: mesh.spec.domain });
  return { model, source: '-f spec.yaml', findings: [], bundle: { title: 'Rendered bundle', objects }, tool: TOOL };
}

describe('escaping', () => {
  it('esc covers the five characters that matter in text and in double-quoted attributes', () => {
    assert.equal(esc(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
  it('markup in a finding, a resource name and a bundle object stays text', () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const f: Finding = {
      code: 'SM1002',
      severity: 'error',
      message: `message ${evil}`,
      resource: { apiVersion: 'v1', kind: 'Service', namespace: 'x', name: evil },
      fix: `fix ${evil}`,
      docs: 'docs/rules.md#sm1002',
    };
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'x' }, data: { k: evil } };
    const { html } = renderHtmlReport({ ...input(2, 1, { extra: [cm] }), findings: [f], source: `-f ${evil}` });
    assert.ok(!/<script|<img/i.test(html), 'no element from the input');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;'));
  });
});

describe('coverage notes', () => {
  it('what check could not look at is listed with the findings', () => {
    const { html } = renderHtmlReport({ ...input(2, 1), notes: ['the cluster serves no Istio.sailoperator.io <b>'] });
    assert.match(html, /<p>Not looked at:<\/p><ul class="notes"><li>the cluster serves no Istio\.sailoperator\.io &lt;b&gt;<\/li><\/ul>/);
  });
});

describe('self-contained', () => {
  const { html } = renderHtmlReport(input(2, 2, { leak: true }));
  it('loads nothing: a CSP of default-src none, no src attribute, no stylesheet link, no url() in the CSS', () => {
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
    assert.ok(!/\ssrc=|<link|url\(|@import|<script/i.test(html));
  });
  it('every link is an anchor in the file, or a rule documentation page (followed only when clicked)', () => {
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    const ids = new Set([...html.matchAll(/id="([^"]*)"/g)].map((m) => m[1]!));
    for (const h of hrefs) {
      if (h.startsWith('#')) assert.ok(ids.has(h.slice(1)), `dangling anchor ${h}`);
      else assert.match(h, /^https:\/\/github\.com\/serverless-mesh\/serverless-mesh\/blob\/main\/docs\/rules\.md#sm\d{4}$/);
    }
  });
});

describe('detailed layout', () => {
  it('small matrix: every cell links to its explanation; the leak is a LEAK cell with the deciding policy', () => {
    const res = renderHtmlReport(input(2, 2, { leak: true }));
    assert.equal(res.leaks, 2, 'direct and local gateway');
    assert.match(res.html, /NOT ISOLATED: 2 cross-tenant request\(s\) allowed/);
    const cells = [...res.html.matchAll(/<td class="c\d" title="[^"]*"><a href="#(x-[^"]+)">/g)];
    assert.equal(cells.length, 4 * 4 * 5, 'every cell of every path');
    const leak = /<td class="c6" title="tenant-1-ns-0 → tenant-0-ns-0\/ksvc via direct: LEAK[^"]*"><a href="#([^"]+)">LEAK<\/a>/.exec(
      res.html,
    );
    assert.ok(leak);
    const section = new RegExp(`<section class="expl" id="${leak[1]}"[^]*?</section>`).exec(res.html)![0];
    assert.match(section, /<li class="deciding">.*ALLOW<\/span> by <strong>tenant-0-ns-0\/let-tenant-1-in<\/strong> rules\[0\]/);
    assert.match(section, /serverless-mesh verify -f spec\.yaml --from tenant-1-ns-0 --to tenant-0-ns-0\/ksvc --via direct/);
  });
  it('a same-tenant refusal is a BROKEN cell (distinct from a leak)', () => {
    // A DENY for the tenant's own second namespace.
    const deny: KubeObject = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'deny-sibling', namespace: 'tenant-0-ns-0' },
      spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['tenant-0-ns-1'] } }] }] },
    };
    const res = renderHtmlReport(input(2, 2, { extra: [deny] }));
    assert.ok(res.broken >= 1);
    assert.match(
      res.html,
      /<td class="c5" title="tenant-0-ns-1 → tenant-0-ns-0\/ksvc via direct: BROKEN[^"]*"><a href="#x-[^"]+">BROKEN<\/a>/,
    );
    assert.ok(!res.html.includes('<td class="c6"'));
  });
  it('beyond the explanation budget, the report says how to get the rest', () => {
    const res = renderHtmlReport({ ...input(2, 2, { leak: true }), limits: { explanations: 3 } });
    assert.equal([...res.html.matchAll(/<section class="expl" id="x-/g)].length, 3);
    assert.match(
      res.html,
      /77 cell explanation\(s\) were not written \(limit 3\): <code>serverless-mesh verify -f spec\.yaml --from NAMESPACE/,
    );
  });
});

describe('aggregated layout', () => {
  it('per unit when there are many namespaces: a leaking unit pair links to its per-namespace drill-down', () => {
    const res = renderHtmlReport({ ...input(6, 2, { leak: true }), limits: { detailSources: 4, gridUnits: 10 } });
    assert.match(res.html, /aggregated by isolation unit/);
    const cell = /<td class="c6" title="tenant-1 → tenant-0 via direct: LEAK[^"]*"><a href="#(d-direct-\d+-\d+)">LEAK<\/a><\/td>/.exec(
      res.html,
    );
    assert.ok(cell, 'the unit-level LEAK cell');
    const drill = new RegExp(`<section class="expl" id="${cell[1]}"[^]*?Back to the direct matrix`).exec(res.html)![0];
    // Two namespaces of tenant-1 × two Knative Services of tenant-0: one leaks, with its explanation.
    assert.equal([...drill.matchAll(/<td class="c\d"/g)].length, 4);
    const x = /<td class="c6" title="tenant-1-ns-0 → tenant-0-ns-0\/ksvc via direct[^"]*"><a href="#(x-direct-[^"]+)">/.exec(drill);
    assert.ok(x, 'the namespace-level LEAK cell links to its explanation');
    assert.ok(res.html.includes(`<section class="expl" id="${x[1]}"`));
    assert.match(res.html, /<ul class="exceptions"><li><a href="#d-direct-\d+-\d+">tenant-1 → tenant-0: LEAK<\/a><\/li><\/ul>/);
  });
  it('one character per unit pair beyond gridUnits, markup only on the exceptions', () => {
    const res = renderHtmlReport({ ...input(6, 1, { leak: true }), limits: { detailSources: 4, gridUnits: 4 } });
    const row = /<tr><th scope="row">tenant-1<\/th><td>(.*?)<\/td><\/tr>/.exec(res.html.slice(res.html.indexOf('id="m-direct"')))![1]!;
    assert.match(
      row,
      /^<a href="#d-direct-\d+-\d+"><span class="c6" title="tenant-1 → tenant-0 via direct: LEAK[^"]*">L<\/span><\/a>o\.\.\.\.$/,
    );
  });
  it('required edges beyond the limit: one line per kind, then the blocked ones', () => {
    const res = renderHtmlReport({ ...input(3, 1), limits: { edges: 5 } });
    assert.match(res.html, /required edges, one line per kind/);
    assert.match(res.html, /<th scope="row">activator-probe<\/th><td>3 of 3<\/td>/);
  });
  it('the bundle beyond its byte budget: the first objects, then what was left out and how to get it', () => {
    const res = renderHtmlReport({ ...input(3, 1), limits: { bundleBytes: 2000 } });
    assert.match(
      res.html,
      /The first \d+ of \d+ objects are shown \(size limit\); not shown: .*AuthorizationPolicy.*serverless-mesh render -f spec\.yaml/,
    );
  });
});
