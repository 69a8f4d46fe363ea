import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/shared.ts';

const BIN = join(ROOT, 'bin/serverless-mesh.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
const tmp = () => mkdtempSync(join(tmpdir(), 'sm-cli-'));
const docsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());

describe('serverless-mesh render', () => {
  it('prints multi-document YAML on stdout, nothing else', () => {
    const res = run('render', '-f', 'examples/ossm2-kafka.yaml');
    assert.equal(res.status, 0, res.stderr);
    const docs = docsOf(res.stdout);
    assert.equal(docs.length, 14);
    assert.deepEqual(
      docs.filter((d) => d.kind === 'KnativeKafka').map((d) => d.spec.broker.defaultConfig.bootstrapServers),
      ['my-cluster-kafka-bootstrap.kafka:9092'],
    );
  });

  it('-o json prints a v1 List', () => {
    const res = run('render', '-f', 'examples/kourier.yaml', '-o', 'json');
    assert.equal(res.status, 0, res.stderr);
    const list = JSON.parse(res.stdout);
    assert.equal(list.kind, 'List');
    assert.ok(list.items.some((o: any) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'my-app'));
  });

  it('--output-dir DIR writes one file per object in order; the Secret file is 0600', () => {
    const dir = tmp();
    const certs = tmp();
    const res = run('render', '-f', 'examples/ossm2-tenants.yaml', '--output-dir', dir, '--certs-dir', certs);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, '');
    const files = readdirSync(dir)
      .filter((f) => f !== '.serverless-mesh-files')
      .sort();
    assert.equal(files.length, 53);
    // The index of what this render wrote (the next render removes what it no longer produces).
    assert.deepEqual(readFileSync(join(dir, '.serverless-mesh-files'), 'utf8').trim().split('\n').sort(), files);
    assert.equal(files[0], '000-namespace-istio-system.yaml');
    const secret = files.find((f) => f.includes('-secret-'))!;
    assert.equal(statSync(join(dir, secret)).mode & 0o777, 0o600);
    assert.equal(statSync(join(certs, 'wildcard.key')).mode & 0o777, 0o600);
  });

  it('--certs-dir makes repeated renders identical (the certificate is reused)', () => {
    const certs = tmp();
    const a = run('render', '-f', 'examples/ossm2-basic.yaml', '--certs-dir', certs);
    const b = run('render', '-f', 'examples/ossm2-basic.yaml', '--certs-dir', certs);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    const secret = docsOf(a.stdout).find((d) => d.kind === 'Secret');
    assert.equal(Buffer.from(secret.data['tls.crt'], 'base64').toString(), readFileSync(join(certs, 'wildcard.crt'), 'utf8'));
    assert.equal(secret.metadata.labels['networking.internal.knative.dev/certificate-uid'], 'wildcard-certs');
  });

  it('a bad spec: exit 2, one line per error on stderr, nothing on stdout', () => {
    const dir = tmp();
    const spec = join(dir, 'bad.yaml');
    writeFileSync(
      spec,
      'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: x}\nspec:\n  tenants: [{name: a, namespaces: [A]}]\n  bogus: 1\n',
    );
    const res = run('render', '-f', spec);
    assert.equal(res.status, 2);
    assert.equal(res.stdout, '');
    assert.deepEqual(res.stderr.trim().split('\n'), [
      `${spec}:6:3: spec.bogus: unknown field "bogus"`,
      `${spec}:5:36: spec.tenants[0].namespaces[0]: invalid name "A": must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)`,
    ]);
  });

  it('a missing file: exit 2 naming the file', () => {
    const res = run('render', '-f', 'nope.yaml');
    assert.equal(res.status, 2);
    assert.equal(res.stderr.trim(), 'nope.yaml: cannot read spec file (ENOENT)');
  });

  it('a flavour that does not support a setting is refused with its position, nothing rendered', () => {
    const dir = tmp();
    const spec = join(dir, 'o3.yaml');
    writeFileSync(
      spec,
      'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: x}\nspec:\n  mesh: {flavor: ossm3}\n  ingress: kourier\n',
    );
    const res = run('render', '-f', spec);
    assert.equal(res.status, 2);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /o3\.yaml:6:12: spec\.ingress: ingress: kourier is supported with flavor ossm2 only/);
  });

  it('usage errors exit 2', () => {
    assert.equal(run('render').status, 2);
    assert.equal(run('no-such-command').status, 2);
    assert.equal(run('--help').status, 0);
  });
});

describe('serverless-mesh service', () => {
  it('renders a mesh-ready ksvc with env and GPU limit', () => {
    const res = run(
      'service',
      '--name',
      'hello',
      '--namespace',
      'team-alpha-1',
      '--image',
      'quay.io/x/hello:1',
      '--env',
      'RESPONSE=Hello Serverless!',
      '--gpu',
      '2',
    );
    assert.equal(res.status, 0, res.stderr);
    const [ksvc] = docsOf(res.stdout);
    assert.equal(ksvc.metadata.annotations['serving.knative.openshift.io/enablePassthrough'], 'true');
    assert.equal(ksvc.spec.template.metadata.labels['sidecar.istio.io/inject'], 'true');
    assert.equal(ksvc.spec.template.metadata.annotations['sidecar.istio.io/rewriteAppHTTPProbers'], 'true');
    assert.deepEqual(ksvc.spec.template.spec.containers[0], {
      image: 'quay.io/x/hello:1',
      env: [{ name: 'RESPONSE', value: 'Hello Serverless!' }],
      resources: { limits: { 'nvidia.com/gpu': 2 } },
    });
  });

  it('rejects an invalid name and a bad --env', () => {
    assert.equal(run('service', '--name', 'Hello', '--namespace', 'a', '--image', 'i').status, 2);
    assert.equal(run('service', '--name', 'h', '--namespace', 'a', '--image', 'i', '--env', 'NOVALUE').status, 2);
  });
});

describe('serverless-mesh mesh-ify', () => {
  const original = `# my services
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello   # the greeter
  namespace: team-alpha-1
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/min-scale: '1'
    spec:
      containers:
        - image: quay.io/x/hello:1
---
apiVersion: v1
kind: ConfigMap
metadata: {name: untouched}
data: {a: "1"}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: opted-out
  annotations:
    serving.knative.openshift.io/enablePassthrough: "true"
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "false"
      annotations:
        sidecar.istio.io/rewriteAppHTTPProbers: "true"
    spec:
      containers: [{image: quay.io/x/other:1}]
`;

  it('adds only what is missing; comments, other documents and explicit choices survive', () => {
    const dir = tmp();
    const file = join(dir, 'svc.yaml');
    writeFileSync(file, original);
    const res = run('mesh-ify', file);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /# my services/);
    assert.match(res.stdout, /name: hello +# the greeter/);
    assert.match(res.stdout, /min-scale: '1'/);
    const before = docsOf(original);
    const after = docsOf(res.stdout);
    assert.equal(after.length, 3);
    assert.deepEqual(after[1], before[1]);
    assert.deepEqual(after[2], before[2], 'opted-out service must not change');
    const expected = structuredClone(before[0]);
    expected.metadata.annotations = { 'serving.knative.openshift.io/enablePassthrough': 'true' };
    expected.spec.template.metadata.labels = { 'sidecar.istio.io/inject': 'true' };
    expected.spec.template.metadata.annotations['sidecar.istio.io/rewriteAppHTTPProbers'] = 'true';
    assert.deepEqual(after[0], expected);
    assert.equal(res.stderr.trim().split('\n').length, 3, res.stderr);
  });

  it('--in-place is idempotent: a second run changes nothing', () => {
    const dir = tmp();
    const file = join(dir, 'svc.yaml');
    writeFileSync(file, original);
    assert.equal(run('mesh-ify', '-i', file).status, 0);
    const once = readFileSync(file, 'utf8');
    const second = run('mesh-ify', '-i', file);
    assert.equal(second.status, 0);
    assert.equal(second.stderr, '');
    assert.equal(readFileSync(file, 'utf8'), once);
  });

  it('a malformed file: exit 2, and no file is rewritten', () => {
    const dir = tmp();
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, original);
    writeFileSync(bad, 'kind: Service\nmetadata: {name: [x\n');
    const res = run('mesh-ify', '-i', good, bad);
    assert.equal(res.status, 2);
    assert.match(res.stderr, new RegExp(`^${bad}:\\d+:\\d+: invalid YAML`, 'm'));
    assert.equal(readFileSync(good, 'utf8'), original);
  });
});

describe('kubectl plugin', () => {
  it('package.json exposes kubectl-serverless_mesh on the same entry point', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.bin['kubectl-serverless_mesh'], pkg.bin['serverless-mesh']);
    assert.ok(statSync(join(ROOT, pkg.bin['serverless-mesh'])).mode & 0o111);
  });
});
