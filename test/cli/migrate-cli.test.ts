// `migrate -m`: offline, through the CLI as a user runs it (no cluster involved without --apply).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/shared.ts';
import { DOCUMENTED_STEP_ORDER } from '../migrate/step-order.ts';

const BIN = join(ROOT, 'bin/serverless-mesh.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, KUBECONFIG: '/nonexistent' } });
const tmp = () => mkdtempSync(join(tmpdir(), 'sm-migrate-cli-'));
const docsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());

describe('serverless-mesh migrate -m', () => {
  // An OSSM 2 installation as files: what `render` writes (with a real generated certificate).
  const state = tmp();
  const rendered = run('render', '-f', 'examples/ossm2-tenants.yaml', '--output-dir', state);

  it('-o DIR: spec (domain read from the certificate), bundle with the copied Secret, plan, unmapped list', () => {
    assert.equal(rendered.status, 0, rendered.stderr);
    const out = tmp();
    const res = run('migrate', '-m', state, '--output-dir', out);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^wrote serverless-mesh\.yaml, plan\.md \(10 steps\), unmapped\.yaml \(0 settings\) and \d+ objects under /);
    const [spec] = docsOf(readFileSync(join(out, 'serverless-mesh.yaml'), 'utf8'));
    assert.equal(spec.spec.mesh.flavor, 'ossm3');
    assert.equal(spec.spec.domain, 'apps.openshift.example.com');
    assert.deepEqual(
      spec.spec.tenants.map((t: { name: string }) => t.name),
      ['team-alpha', 'team-bravo'],
    );
    const oldSecret = readdirSync(state).find((f) => f.includes('-secret-'))!;
    const newSecret = readdirSync(join(out, 'bundle')).find((f) => f.includes('-secret-'))!;
    assert.match(newSecret, /secret-knative-serving-ingress\.wildcard-certs/);
    assert.equal(statSync(join(out, 'bundle', newSecret)).mode & 0o777, 0o600);
    const crt = (p: string) => docsOf(readFileSync(p, 'utf8'))[0].data['tls.crt'];
    assert.equal(crt(join(out, 'bundle', newSecret)), crt(join(state, oldSecret)), 'the certificate is copied, not regenerated');
    const plan = readFileSync(join(out, 'plan.md'), 'utf8');
    assert.deepEqual(
      [...plan.matchAll(/^## (\d+)\. .*\(`([a-z-]+)`\)$/gm)].map((m) => m[2]),
      DOCUMENTED_STEP_ORDER,
    );
    assert.equal(readFileSync(join(out, 'unmapped.yaml'), 'utf8'), '# no settings without an OSSM 3 equivalent\n[]\n');
  });

  it('stdout: plan and unmapped list as comments, then the spec and the bundle as YAML documents', () => {
    const res = run('migrate', '-m', state);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^# # no settings without an OSSM 3 equivalent\n/);
    assert.match(res.stdout, /^# ## 7\. Move the OpenShift Routes out of istio-system/m);
    const docs = docsOf(res.stdout);
    assert.equal(docs[0].kind, 'ServerlessMesh');
    assert.ok(docs.some((d) => d.kind === 'Istio' && d.apiVersion === 'sailoperator.io/v1'));
  });

  it('bad input: one line, exit 2', () => {
    const both = run('migrate', '-m', state, '--cluster');
    assert.equal(both.status, 2);
    assert.equal(both.stderr, 'migrate: give exactly one of -m PATH… or --cluster\n');
    const notOssm2 = run('migrate', '-m', join(ROOT, 'examples/ossm2-basic.yaml'));
    assert.equal(notOssm2.status, 2, notOssm2.stderr);
    assert.match(
      notOssm2.stderr,
      /^migrate: no ServiceMeshControlPlane or ServiceMeshMemberRoll among the objects: not an OpenShift Service Mesh 2\.x installation\n$/,
    );
  });
});
