// `serverless-mesh report` as a user runs it: where the HTML goes, and the exit codes (as check and verify:
// 0 nothing found, 1 the report was written and shows a problem, 2 bad input).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { render } from '../../src/render/index.ts';
import { toYaml } from '../../src/render/serialize.ts';
import { example, ROOT } from '../helpers/shared.ts';

const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'report', ...args], { input, encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'sm-report-cli-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const bundle = () => {
  const m = example('ossm2-tenants');
  return file('bundle.yaml', toYaml(render({ ...m, spec: { ...m.spec, tls: { ...m.spec.tls, generate: false } } })));
};
const LEAK = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: let-bravo-in, namespace: team-alpha-1}
spec:
  rules:
    - from:
        - source: {namespaces: [team-bravo-1]}
`;

describe('report CLI', () => {
  it('-f SPEC > report.html: exit 0 when tenants are isolated and nothing is found', () => {
    const r = run(['-f', 'examples/ossm2-tenants.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^<!DOCTYPE html>/);
    assert.match(r.stdout, /Isolated: no cross-tenant request/);
    assert.match(r.stdout, /generated \d{4}-\d\d-\d\dT/);
    assert.ok(!r.stdout.includes('BEGIN PRIVATE KEY'), 'no generated key in a report meant to be mailed');
  });
  it('--output-file FILE writes the file and nothing to stdout; exit 1 on a leak (-m, repeatable)', () => {
    const out = join(dir, 'leak.html');
    const r = run(['-m', bundle(), '-m', file('leak.yaml', LEAK), '--output-file', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    const html = readFileSync(out, 'utf8');
    assert.match(html, /NOT ISOLATED: 2 cross-tenant request\(s\) allowed/);
    assert.match(html, /<td class="c6"/);
  });
  it('exit 2 without input, with both -f and -m, on unparseable manifests, on an unwritable --output-file', () => {
    const none = run([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give a spec \(-f SPEC\), manifests \(-m PATH…\) or --cluster/);
    const both = run(['-f', 'examples/ossm2-tenants.yaml', '-m', bundle()]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
    const bad = run(['-m', file('bad.yaml', 'apiVersion: v1\nkind: [\n')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml:\d+(:\d+)?: invalid YAML/);
    const nowhere = join(dir, 'missing-dir', 'r.html');
    const w = run(['-f', 'examples/ossm2-basic.yaml', '--output-file', nowhere]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /--output-file: cannot write/);
    assert.ok(!existsSync(nowhere));
  });
  it('-o is the format (html only): -o FILE is a usage error that points to --output-file', () => {
    const r = run(['-f', 'examples/ossm2-basic.yaml', '-o', 'report.html']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected one of html; -o is the output format, for a file use --output-file report\.html/);
    assert.equal(run(['-f', 'examples/ossm2-basic.yaml', '-o', 'html']).code, 0);
  });
  it('--help names the exit codes and examples', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'report', '--help'], { encoding: 'utf8' });
    assert.match(r.stdout, /Exit codes:\n {2}0 {2}success\n {2}1 {2}the report was written and shows a leak/);
    assert.match(r.stdout, /serverless-mesh report -f examples\/ossm2-tenants\.yaml > report\.html/);
  });
});
