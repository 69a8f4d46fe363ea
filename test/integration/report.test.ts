/**
 * `report --cluster` against the real test apiserver: the live objects (read as `check --cluster`
 * reads them, Secrets as metadata only) give the matrix; a leaking policy on the cluster shows as a
 * LEAK cell, and `-m` overlays a fix as if it were applied.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Discovery } from '../../src/cluster/discovery.ts';
import { serverSideApply } from '../../src/cluster/ops.ts';
import { TENANT_LABEL } from '../../src/model/constants.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { adminClient, requireCluster, runCli } from './helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

const tenantNs = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { [TENANT_LABEL]: name } },
});
const allowFrom = (sources: string[]): KubeObject => ({
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'rpt-allow', namespace: 'rpt-a' },
  spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: sources } }] }] },
});
const SECRET_VALUE = 'rpt-top-secret-value';
// One cell per namespace: this test's apiserver holds only these two tenants.
const LEAK = /title="rpt-b → rpt-a\/ksvc via direct: LEAK/;

describe('report --cluster against a real kube-apiserver', () => {
  let kubeconfig: string;
  const dir = mkdtempSync(join(tmpdir(), 'sm-report-int-'));
  const envDir = mkdtempSync(join(tmpdir(), 'sm-report-env-'));

  before(async () => {
    requireCluster(); // the run's own apiserver proves the toolchain is installed
    // An apiserver of its own: the shared one holds other tests' tenants, which would change the layout (and the verdict).
    kubeconfig = ((await testEnv.start({ dir: envDir, controllerManager: false })) as Record<string, string>).KUBECONFIG!;
    const client = adminClient(kubeconfig);
    const discovery = new Discovery(client);
    const apply = async (o: KubeObject) => serverSideApply(client, (await discovery.resolve(o.apiVersion, o.kind))!, o, { force: true });
    try {
      for (const n of ['rpt-a', 'rpt-b']) await apply(tenantNs(n));
      await apply(allowFrom(['rpt-a', 'rpt-b']));
      await apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'rpt-secret', namespace: 'rpt-a' },
        data: { value: Buffer.from(SECRET_VALUE).toString('base64') },
      });
    } finally {
      client.close();
    }
  });

  after(async () => {
    await testEnv.stop({ dir: envDir, quiet: true });
    rmSync(envDir, { recursive: true, force: true });
  });

  it('a leaking policy on the cluster is a LEAK cell (exit 1); no Secret data in the report', async () => {
    const out = join(dir, 'live.html');
    const r = await runCli(['--kubeconfig', kubeconfig, 'report', '--cluster', '--output-file', out]);
    assert.equal(r.code, 1, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.match(html, LEAK, 'the leak is in the matrix');
    assert.match(html, /Input: <code>--cluster<\/code>/);
    assert.match(html, /Objects read from the cluster/);
    assert.ok(
      !html.includes(SECRET_VALUE) && !html.includes(Buffer.from(SECRET_VALUE).toString('base64')),
      'Secrets are read as metadata only',
    );
  });

  it('--cluster -m FIX: the report as if the fix were applied', async () => {
    const fix = join(dir, 'fix.yaml');
    writeFileSync(fix, JSON.stringify(allowFrom(['rpt-a'])));
    const out = join(dir, 'fixed.html');
    const r = await runCli(['--kubeconfig', kubeconfig, 'report', '--cluster', '-m', fix, '--output-file', out]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, LEAK, 'no leak into rpt-a once the fix is overlaid');
    assert.match(html, /<th scope="row">rpt-b/, 'rpt-b is still a source in the matrix');
  });
});
