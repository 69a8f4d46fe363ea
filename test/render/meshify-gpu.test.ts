import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { GPU_RESOURCE, meshify, servingContainerIndex } from '../../src/render/meshify.ts';
import { meshReadyKsvc } from '../../src/render/ksvc.ts';
import { ROOT } from '../helpers/shared.ts';

// Seed 003 §5.1: step 1 `kn service create hello --limit nvidia.com/gpu=1`, step 2 `kn service update hello --limit nvidia.com/gpu=3`.
const KSVC = `# my service
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello # keep me
  namespace: team-a
  annotations:
    serving.knative.openshift.io/enablePassthrough: "true"
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "true"
      annotations:
        sidecar.istio.io/rewriteAppHTTPProbers: "true"
    spec:
      containers:
        - name: app
          image: 'quay.io/org/hello:1' # quoted on purpose
`;

const containers = (text: string) => parse(text).spec.template.spec.containers;

describe('mesh-ify --gpu (seed 003 §5.1)', () => {
  it('step 1: sets the nvidia.com/gpu limit on the container, everything else byte for byte', () => {
    const r = meshify('k.yaml', KSVC, { gpu: 1 });
    assert.deepEqual(containers(r.text)[0].resources, { limits: { [GPU_RESOURCE]: 1 } });
    assert.equal(r.text, `${KSVC}          resources:\n            limits:\n              nvidia.com/gpu: 1\n`);
    assert.deepEqual(r.changes, [`k.yaml: team-a/hello: container app: set limit nvidia.com/gpu: 1`]);
  });

  it('step 2: changes an existing limit (1 → 3), keeping its quoting, and a request with it', () => {
    const one = KSVC.replace(
      "          image: 'quay.io/org/hello:1' # quoted on purpose\n",
      `          image: x\n          resources:\n            requests: {cpu: 100m, nvidia.com/gpu: "1"}\n            limits:\n              nvidia.com/gpu: "1" # gpus\n`,
    );
    const r = meshify('k.yaml', one, { gpu: 3 });
    assert.deepEqual(containers(r.text)[0].resources, { requests: { cpu: '100m', [GPU_RESOURCE]: '3' }, limits: { [GPU_RESOURCE]: '3' } });
    assert.match(r.text, /nvidia\.com\/gpu: "3" # gpus\n/);
    assert.match(r.changes.join('\n'), /changed limit nvidia\.com\/gpu from 1 to 3 \(and its request/);
  });

  it('the same limit again: nothing changes (idempotent), the text is returned as it was', () => {
    const once = meshify('k.yaml', KSVC, { gpu: 2 }).text;
    const twice = meshify('k.yaml', once, { gpu: 2 });
    assert.equal(twice.text, once);
    assert.deepEqual(twice.changes, []);
  });

  it('several containers: the serving one (with ports) gets the limit, as kn picks it; the sidecar does not', () => {
    assert.equal(servingContainerIndex([{}, { ports: [{ containerPort: 8080 }] }]), 1);
    assert.equal(servingContainerIndex([{}, {}]), 0);
    const multi = KSVC.replace(
      '        - name: app\n',
      '        - name: side\n          image: s\n        - name: app\n          ports: [{containerPort: 8080}]\n',
    );
    const c = containers(meshify('k.yaml', multi, { gpu: 1 }).text);
    assert.equal(c[0].resources, undefined);
    assert.deepEqual(c[1].resources, { limits: { [GPU_RESOURCE]: 1 } });
  });

  it('no containers, or a resources that is not a map: an error, nothing is changed', () => {
    assert.throws(
      () => meshify('k.yaml', KSVC.replace(/ {6}containers:[\s\S]*$/, '      containers: []\n'), { gpu: 1 }),
      /spec\.template\.spec\.containers: --gpu: expected a list of containers/,
    );
    assert.throws(
      () => meshify('k.yaml', `${KSVC}          resources: lots\n`, { gpu: 1 }),
      /containers\.0\.resources: expected a mapping/,
    );
  });

  it('other documents are untouched; without --gpu nothing about GPUs is added', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n${KSVC}`;
    const r = meshify('k.yaml', text, { gpu: 1 });
    assert.ok(r.text.startsWith('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n# my service\n'));
    assert.equal(meshify('k.yaml', KSVC).text, KSVC);
  });

  it('a comment before the first document is printed once', () => {
    const r = meshify('k.yaml', KSVC.replace('  annotations:\n    serving.knative.openshift.io/enablePassthrough: "true"\n', ''));
    assert.equal(r.text.split('# my service').length, 2, r.text);
  });

  it('service --gpu and mesh-ify --gpu agree on the field', () => {
    const k = meshReadyKsvc({ name: 'hello', namespace: 'team-a', image: 'x', gpu: 1 }) as unknown as {
      spec: { template: { spec: { containers: Array<{ resources: unknown }> } } };
    };
    assert.deepEqual(k.spec.template.spec.containers[0]!.resources, containers(meshify('k.yaml', KSVC, { gpu: 1 }).text)[0].resources);
  });

  it('CLI: mesh-ify -i --gpu 3 rewrites the file; --gpu 0 is refused (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-gpu-'));
    const f = join(dir, 'k.yaml');
    writeFileSync(f, KSVC);
    const bin = join(ROOT, 'bin/serverless-mesh.js');
    const ok = spawnSync(process.execPath, [bin, 'mesh-ify', '-i', '--gpu', '3', f], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(containers(readFileSync(f, 'utf8'))[0].resources.limits[GPU_RESOURCE], 3);
    const bad = spawnSync(process.execPath, [bin, 'mesh-ify', '--gpu', '0', f], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--gpu <n>.*expected an integer from 1 to 1024/);
    const svc = spawnSync(
      process.execPath,
      [bin, 'service', '--name', 'hello', '--namespace', 'team-a', '--image', 'x', '--gpu', '1', '-o', 'json'],
      { encoding: 'utf8' },
    );
    assert.equal(svc.status, 0, svc.stderr);
    assert.deepEqual(JSON.parse(svc.stdout).spec.template.spec.containers[0].resources, { limits: { [GPU_RESOURCE]: 1 } });
  });
});
