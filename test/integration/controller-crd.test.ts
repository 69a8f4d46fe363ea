// The generated CRD on a real apiserver: every example spec file is a valid ServerlessMesh CR
// (`kubectl apply -f examples/x.yaml`), the apiserver fills the schema's defaults, and the CR read back
// loads to the same spec as the file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSpecFile } from '../../src/api/load.ts';
import { CR_RESOURCE } from '../../src/controller/crd.ts';
import { specFromCr } from '../../src/controller/spec.ts';
import { ROOT } from '../helpers/shared.ts';
import { adminClient, get, requireCluster } from './helpers.ts';
import { installCrd } from './controller-helpers.ts';
import { Discovery } from '../../src/cluster/discovery.ts';
import { emittedKinds, pluralOf } from '../../src/controller/manifests.ts';

const kubectl = (args: string[], input?: string) =>
  spawnSync('kubectl', ['--kubeconfig', requireCluster(), ...args], { encoding: 'utf8', input });

test('ServerlessMesh CRD: examples apply as CRs with kubectl, defaults filled, same spec as the file', async () => {
  const c = adminClient();
  try {
    await installCrd(c);
    const examples = readdirSync(join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    assert.ok(examples.length >= 5);
    for (const f of examples) {
      const file = join(ROOT, 'examples', f);
      const r = kubectl(['apply', '-f', file]);
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      const fromFile = loadSpecFile(file);
      const cr = await get(c, CR_RESOURCE, undefined, fromFile.metadata.name);
      assert.ok(cr, `${f}: CR ${fromFile.metadata.name} stored`);
      const spec = cr.spec as { mesh: { namespace: string }; tenants: unknown[]; metrics: { monitoringNamespace: string } };
      // Schema defaults come from the apiserver (derived ones, e.g. controlPlane, from the loader).
      assert.equal(typeof spec.mesh.namespace, 'string', `${f}: mesh.namespace defaulted`);
      assert.ok(Array.isArray(spec.tenants), `${f}: tenants defaulted`);
      assert.equal(spec.metrics.monitoringNamespace, fromFile.spec.metrics.monitoringNamespace);
      const back = specFromCr(cr);
      assert.ok(back.ok, `${f}: ${back.ok ? '' : back.errors.join('; ')}`);
      assert.deepEqual(back.mesh, fromFile, `${f}: the CR loads to the file's spec`);
      assert.equal(kubectl(['delete', '-f', file]).status, 0);
    }
    // The apiserver enforces the schema: a flavour outside the enum is refused.
    const bad = kubectl(
      ['apply', '-f', '-'],
      'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: bad}\nspec: {mesh: {flavor: linkerd}}\n',
    );
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /spec\.mesh\.flavor/);
    // Printer columns.
    assert.equal(kubectl(['apply', '-f', join(ROOT, 'examples', 'ossm2-tenants.yaml')]).status, 0);
    const table = kubectl(['get', 'serverlessmeshes']);
    assert.match(table.stdout, /NAME\s+FLAVOR\s+DOMAIN\s+READY\s+REASON\s+AGE/);
    assert.match(table.stdout, /tenants\s+ossm2\s+apps\.openshift\.example\.com/);
    assert.equal(kubectl(['delete', '-f', join(ROOT, 'examples', 'ossm2-tenants.yaml')]).status, 0);
  } finally {
    c.close();
  }
});

test('controller manifests: the ClusterRole names resources as this apiserver serves them; the bundle (in an existing namespace) passes a server dry run', async () => {
  const c = adminClient();
  try {
    const d = new Discovery(c);
    let checked = 0;
    for (const k of emittedKinds()) {
      const info = await d.resolve(k.apiVersion, k.kind);
      if (!info) continue; // a flavour whose APIs this apiserver does not serve
      assert.equal(pluralOf(k.kind), info.plural, `${k.apiVersion} ${k.kind}`);
      checked++;
    }
    assert.ok(checked >= 15, `${checked} kinds checked`);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'controller', 'manifests', '--namespace', 'default'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const applied = kubectl(['apply', '--dry-run=server', '-f', '-'], r.stdout);
    assert.equal(applied.status, 0, applied.stderr);
    assert.match(applied.stdout, /clusterrole\.rbac\.authorization\.k8s\.io\/serverless-mesh-controller created \(server dry run\)/);
    assert.match(applied.stdout, /deployment\.apps\/serverless-mesh-controller created \(server dry run\)/);
  } finally {
    c.close();
  }
});
