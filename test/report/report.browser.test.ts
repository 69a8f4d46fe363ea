// The HTML report in a real browser (issue 13 §1): screenshots of the examples against committed PNGs,
// a leak shown as a red cell whose explanation is one click away (without JavaScript), axe-core with
// no serious or critical violation, no network request, and names from manifests that stay inert.
// UPDATE_SCREENSHOTS=1 rewrites the PNGs under test/report/screenshots/ (look at them before committing).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { parseSpec } from '../../src/api/load.ts';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { readReportInput, reportFor, type ReportOptions } from '../../src/cli/report-commands.ts';
import { TOOL } from '../../src/cli/check-commands.ts';
import { renderHtmlReport } from '../../src/report/html.ts';
import { tenantSpecText } from '../../bench/tenant-spec.ts';
import { render } from '../../src/render/index.ts';
import { toYaml } from '../../src/render/serialize.ts';
import { launch, openReport } from '../helpers/browser.ts';
import { EXAMPLES, example, ROOT } from '../helpers/shared.ts';

const SHOTS = join(ROOT, 'test/report/screenshots');
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
/** Pixels whose colour differs beyond pixelmatch's threshold, as a share of the image: font rasterising may vary a little. */
const MAX_DIFF = 0.005;

const reportOf = async (opts: ReportOptions) => reportFor(opts, await readReportInput(opts)).html;

const dir = mkdtempSync(join(tmpdir(), 'sm-report-browser-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** The ossm2-tenants bundle plus a namespace-wide ALLOW in team-alpha-1 for team-bravo-1: a cross-tenant leak. */
const LEAK = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: let-bravo-in
  namespace: team-alpha-1
spec:
  action: ALLOW
  rules:
    - from:
        - source:
            namespaces: [team-bravo-1]
`;
const tenantsObjects = () => {
  const m = example('ossm2-tenants');
  return render({ ...m, spec: { ...m.spec, tls: { ...m.spec.tls, generate: false } } });
};
const tenantsBundle = () => toYaml(tenantsObjects());

let browser: Browser;
before(async () => {
  // Relative paths: the input shown in the report (and in the screenshots) must not depend on the checkout's location.
  process.chdir(ROOT);
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function axeViolations(page: Page) {
  await page.addScriptTag({ content: readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8') });
  const res = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return (res.violations as Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>)
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}× e.g. ${v.nodes[0]?.target.join(' ')})`);
}

describe('report in a browser: the examples', () => {
  for (const name of EXAMPLES) {
    it(`${name}: matches test/report/screenshots/${name}.png, no network request`, async () => {
      const html = await reportOf({ filename: `examples/${name}.yaml` });
      // The first screen (summary and the first matrices): what a reader sees on opening it.
      const r = await openReport(browser, html, { width: 1100, height: 850 });
      try {
        const shot = PNG.sync.read(await r.page.screenshot({ animations: 'disabled', caret: 'hide' }));
        const path = join(SHOTS, `${name}.png`);
        if (UPDATE || !existsSync(path)) {
          // A missing PNG is written and the test fails: a new example needs its screenshot looked at and committed.
          mkdirSync(SHOTS, { recursive: true });
          writeFileSync(path, PNG.sync.write(shot, { colorType: 2, deflateLevel: 9 }));
          assert.ok(UPDATE, `${path} did not exist: written, look at it and commit it`);
        } else {
          const want = PNG.sync.read(readFileSync(path));
          assert.deepEqual([shot.width, shot.height], [want.width, want.height], 'page size changed (UPDATE_SCREENSHOTS=1 regenerates)');
          const diff = new PNG({ width: want.width, height: want.height });
          const n = pixelmatch(shot.data, want.data, diff.data, want.width, want.height, { threshold: 0.1 });
          if (n > MAX_DIFF * want.width * want.height) writeFileSync(join(dir, `${name}.diff.png`), PNG.sync.write(diff));
          assert.ok(
            n <= MAX_DIFF * want.width * want.height,
            `${n} pixels differ (diff image: ${join(dir, `${name}.diff.png`)}; UPDATE_SCREENSHOTS=1 regenerates)`,
          );
        }
        assert.deepEqual(r.requests, []);
      } finally {
        await r.context.close();
      }
    });
  }

  it('axe-core: no serious or critical violation in any example (JavaScript on only to run axe)', async () => {
    const problems: string[] = [];
    for (const name of EXAMPLES) {
      const r = await openReport(browser, await reportOf({ filename: `examples/${name}.yaml` }), { javaScript: true });
      try {
        // With an explanation open and the bundle expanded, so that their content is checked too.
        await r.page.locator('#m-direct td a').first().click();
        await r.page.locator('details.bundle summary').click();
        problems.push(...(await axeViolations(r.page)).map((p) => `${name}: ${p}`));
        assert.deepEqual(r.requests, []);
      } finally {
        await r.context.close();
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('report in a browser: a leak', () => {
  it('shows as a red LEAK cell; one click (JavaScript off) shows the hop-by-hop explanation with the deciding policy', async () => {
    const html = await reportOf({ manifests: [file('bundle.yaml', tenantsBundle()), file('leak.yaml', LEAK)] });
    const r = await openReport(browser, html);
    try {
      const { page } = r;
      await assert.doesNotReject(page.locator('.verdict.bad').waitFor(), 'the verdict says NOT ISOLATED');
      assert.match((await page.locator('.verdict').textContent()) ?? '', /NOT ISOLATED: 2 cross-tenant/);
      const cell = page.locator('#m-direct td.c6');
      assert.equal(await cell.count(), 1, 'exactly one leaking cell on the direct path');
      assert.equal((await cell.textContent())?.trim(), 'LEAK');
      assert.equal(await cell.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(179, 38, 30)');
      assert.match((await cell.getAttribute('title')) ?? '', /^team-bravo-1 → team-alpha-1\/ksvc via direct: LEAK/);
      const link = cell.locator('a');
      const id = ((await link.getAttribute('href')) ?? '').slice(1);
      const expl = page.locator(`[id="${id}"]`);
      assert.equal(await expl.isVisible(), false, 'the explanation is hidden before the click');
      await link.click();
      assert.equal(await expl.isVisible(), true, 'the explanation shows after the click');
      const text = (await expl.textContent()) ?? '';
      assert.match(text, /team-bravo-1 → team-alpha-1\/ksvc via direct/);
      assert.match(text, /Expected: deny\. LEAK: allowed, but another unit must not reach it/);
      assert.match(await expl.locator('li.deciding').innerText(), /ALLOW by team-alpha-1\/let-bravo-in rules\[0\]/);
      assert.match(
        text,
        /serverless-mesh verify -m \S+bundle\.yaml -m \S+leak\.yaml --from team-bravo-1 --to team-alpha-1\/ksvc --via direct/,
      );
      // The cells that hold stay as they were: same-tenant allowed, the other cross-tenant pairs refused.
      assert.equal(await page.locator('#m-direct td.c4').count(), 8);
      assert.equal(await page.locator('#m-direct td.c2').count(), 7);
      // The finding is listed under its resource, with its fix and rule link.
      const f = page.locator('#findings section.resource', { hasText: 'Service team-alpha-1/ksvc' });
      assert.match((await f.textContent()) ?? '', /SM5001 team-bravo-1 → team-alpha-1\/ksvc via direct.*Fix: Restrict/s);
      assert.match((await f.locator('a', { hasText: 'SM5001' }).first().getAttribute('href')) ?? '', /docs\/rules\.md#sm5001$/);
      assert.deepEqual(r.requests, []);
    } finally {
      await r.context.close();
    }
    // axe (it needs JavaScript) over the red cell and its open explanation.
    const a = await openReport(browser, html, { javaScript: true });
    try {
      await a.page.locator('#m-direct td.c6 a').click();
      assert.deepEqual(await axeViolations(a.page), []);
    } finally {
      await a.context.close();
    }
  });

  it('a <script> or an event handler in a name from the manifests stays text (JavaScript on)', async () => {
    const evil = 'team-<script>window.pwned=1</script><img src=http://example.invalid/x onerror=window.pwned=2>';
    // The namespace team-bravo-2 renamed everywhere (names, hosts, policy sources).
    const bundle = toYaml(JSON.parse(JSON.stringify(tenantsObjects()).replaceAll('team-bravo-2', JSON.stringify(evil).slice(1, -1))));
    const html = await reportOf({ manifests: [file('evil.yaml', bundle)] });
    assert.ok(!/<script/i.test(html), 'no script element in the report');
    const r = await openReport(browser, html, { javaScript: true });
    try {
      assert.equal(await r.page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
      assert.equal(await r.page.locator('script, img').count(), 0);
      assert.ok((await r.page.locator('#m-direct').textContent())?.includes(evil), 'the name is shown as text');
      assert.deepEqual(r.requests, []);
    } finally {
      await r.context.close();
    }
  });
});

describe('report in a browser: the aggregated layout', () => {
  it('a leaking tenant pair in the one-character grid → its namespace drill-down → the explanation, all without JavaScript', async () => {
    const mesh = parseSpec('spec.yaml', tenantSpecText(8, 2));
    const objects = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } });
    objects.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'let-tenant-1-in', namespace: 'tenant-0-ns-1' },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['tenant-1-ns-0'] } }] }] },
    });
    const model = modelFromObjects(objects, { flavor: 'ossm2', tenants: mesh.spec.tenants, domain: mesh.spec.domain });
    // Small limits: the layouts meant for hundreds of tenants, on eight.
    const { html } = renderHtmlReport({
      model,
      source: '-f spec.yaml',
      findings: [],
      bundle: { title: 'Rendered bundle', objects },
      tool: TOOL,
      limits: { detailSources: 4, gridUnits: 4 },
    });
    const r = await openReport(browser, html);
    try {
      const { page } = r;
      const cell = page.locator('#m-direct table.grid span.c6');
      assert.equal(await cell.count(), 1);
      assert.equal(await cell.textContent(), 'L');
      assert.equal(await cell.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(179, 38, 30)');
      await page.locator('#m-direct table.grid a').click();
      const drill = page.locator('section.expl:target');
      assert.match((await drill.locator('h4').textContent()) ?? '', /^tenant-1 → tenant-0 via direct, per namespace$/);
      // tenant-1's two namespaces × tenant-0's two Knative Services: one leaks.
      assert.equal(await drill.locator('td').count(), 4);
      await drill.locator('td.c6 a').click();
      const expl = page.locator('section.expl:target');
      assert.match((await expl.locator('h4').textContent()) ?? '', /^tenant-1-ns-0 → tenant-0-ns-1\/ksvc via direct$/);
      assert.match(await expl.locator('li.deciding').innerText(), /by tenant-0-ns-1\/let-tenant-1-in/);
      assert.deepEqual(r.requests, []);
    } finally {
      await r.context.close();
    }
    const a = await openReport(browser, html, { javaScript: true });
    try {
      await a.page.locator('#m-direct table.grid a').click();
      assert.deepEqual(await axeViolations(a.page), []);
    } finally {
      await a.context.close();
    }
  });
});
