// `serverless-mesh check` as a user runs it: inputs, output formats, filters, suppression, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/shared.ts';
import { assertValidSarif } from '../helpers/sarif.ts';

const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'check', ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'sm-check-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const EXPOSED = `apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  type: LoadBalancer
`;
const DEPRECATED = `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
  namespace: apps
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/inject: "true"
`;

describe('check CLI', () => {
  it('exit 1 on an error-level finding, with FILE:LINE and the code', () => {
    const r = run(['-m', file('exposed.yaml', EXPOSED)]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /exposed\.yaml:7:9 Service istio-system\/istio-ingressgateway/);
    assert.match(r.stdout, /error SM1002 /);
  });
  it('exit 0 when only warnings; --severity error hides them', () => {
    const p = file('dep.yaml', DEPRECATED);
    const r = run(['-m', p]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /warning SM3004/);
    assert.match(run(['-m', p, '--severity', 'error']).stdout, /^no findings/m);
  });
  it('exit 2 on unparseable input, FILE:LINE:COL and the parser message', () => {
    const r = run(['-m', file('bad.yaml', 'apiVersion: v1\nkind: [\n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:\d+:\d+: invalid YAML: /);
  });
  it('exit 2 on an unknown rule', () => assert.equal(run(['-m', file('x.yaml', EXPOSED), '--rule', 'SM9999']).code, 2));
  it('reads stdin (`-`) and List kinds; JSON output is data', () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' },
          spec: { type: 'NodePort' },
        },
      ],
    });
    const r = run(['-m', '-', '-o', 'json'], list);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { findings: Array<{ code: string; resource: { kind: string; name: string }; file: string }> };
    assert.deepEqual(
      out.findings.map((f) => [f.code, f.resource.kind, f.resource.name, f.file]),
      [['SM1002', 'Service', 'istio-ingressgateway', '<stdin>']],
    );
  });
  it('--rule and --skip select rules', () => {
    const p = file('both.yaml', `${EXPOSED}---\n${DEPRECATED}`);
    const codes = (args: string[]) =>
      (JSON.parse(run(['-m', p, '-o', 'json', ...args]).stdout) as { findings: Array<{ code: string }> }).findings
        .map((f) => f.code)
        .sort();
    assert.deepEqual(codes([]), ['SM1002', 'SM3004']);
    assert.deepEqual(codes(['--rule', 'SM3004']), ['SM3004']);
    assert.deepEqual(codes(['--skip', 'gateway-service-exposed']), ['SM3004']);
  });
  it('suppression annotation serverlessmesh.dev/ignore', () => {
    const p = file(
      'ignored.yaml',
      EXPOSED.replace('  namespace: istio-system\n', '  namespace: istio-system\n  annotations:\n    serverlessmesh.dev/ignore: SM1002\n'),
    );
    const r = run(['-m', p]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^no findings/m);
  });
  it('SARIF 2.1.0 valid against the official schema, with rule metadata and regions', () => {
    const r = run(['-m', file('s.yaml', EXPOSED), '-o', 'sarif']);
    const log = JSON.parse(r.stdout);
    assertValidSarif(log);
    const run0 = log.runs[0];
    const rule = run0.tool.driver.rules.find((x: any) => x.id === 'SM1002');
    assert.ok(rule.shortDescription.text && rule.fullDescription.text && rule.help.text);
    assert.equal(rule.defaultConfiguration.level, 'error');
    assert.equal(run0.results[0].ruleId, 'SM1002');
    assert.equal(run0.results[0].level, 'error');
    assert.equal(run0.tool.driver.rules[run0.results[0].ruleIndex].id, 'SM1002');
    assert.equal(run0.results[0].locations[0].physicalLocation.region.startLine, 7);
  });
  it('SARIF artifact URIs are URI references: a path with a space is percent-encoded, an absolute one a file:// URL', () => {
    const p = file('with space.yaml', EXPOSED);
    const log = JSON.parse(run(['-m', p, '-o', 'sarif']).stdout);
    assertValidSarif(log);
    const uri = log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri as string;
    assert.equal(decodeURIComponent(new URL(uri).pathname), p);
    assert.match(uri, /^file:\/\/\/.*with%20space\.yaml$/);
    // every rule of the catalogue, and a finding with no file (stdin), validate too
    const stdin = JSON.parse(run(['-m', '-', '-o', 'sarif'], EXPOSED).stdout);
    assertValidSarif(stdin);
    assert.ok(stdin.runs[0].tool.driver.rules.length >= 30);
  });
  it('-f SPEC judges the spec as verify -f does (upstream Istio: the excluded ports docs/flavours.md prescribes)', () => {
    const r = run(['-f', join(ROOT, 'examples', 'istio-tenants.yaml'), '-o', 'json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { findings: unknown[] }).findings, []);
    // The same objects as plain manifests say nothing about the user's istiod: PreStop on 8022 is refused under STRICT.
    const rendered = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/serverless-mesh.js'), 'render', '-f', join(ROOT, 'examples', 'istio-tenants.yaml')],
      {
        encoding: 'utf8',
      },
    ).stdout;
    const m = run(['-m', '-', '-o', 'json', '--rule', 'SM5003'], rendered);
    assert.equal(m.code, 1, m.stderr);
    assert.ok((JSON.parse(m.stdout) as { findings: Array<{ code: string }> }).findings.every((f) => f.code === 'SM5003'));
  });
  it('-f SPEC checks the render', () => {
    const r = run(['-f', join(ROOT, 'examples', 'ossm2-basic.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
