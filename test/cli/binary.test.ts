// `npm run build:binary`: the single executable runs from a directory outside the repository, with
// no node_modules (the PATH has the system directories only; the binary does not need node).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/shared.ts';

describe('single executable kubectl-serverless_mesh (Node SEA)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-sea-'));
  const bin = join(dir, 'bin', 'kubectl-serverless_mesh');
  const work = join(dir, 'work');
  // No node_modules anywhere above the working directory; the system directories and the binary's own on the PATH.
  const env = { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, HOME: work };
  const run = (exe: string, ...args: string[]) => spawnSync(exe, args, { encoding: 'utf8', cwd: work, env, timeout: 60_000 });

  before(() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-binary.mjs'), bin], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    spawnSync('mkdir', ['-p', work]);
    copyFileSync(join(ROOT, 'examples/kourier.yaml'), join(work, 'kourier.yaml'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is one executable file, outside the repository', () => {
    assert.ok(statSync(bin).mode & 0o111);
    assert.ok(!existsSync(join(work, 'node_modules')) && !existsSync(join(dir, 'node_modules')));
    assert.ok(!bin.startsWith(ROOT));
  });

  it('--help: exit 0, the command tree, exit codes; no warnings on stderr', () => {
    const r = run(bin, '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: serverless-mesh /);
    assert.match(r.stdout, /\n {2}render \[options\]/);
    assert.match(r.stdout, /Exit codes:\n {2}0 {2}success\n/);
    assert.equal(r.stderr, '');
  });

  it('render -f <example copied to a temporary directory>: the same bundle as the CLI', () => {
    const r = run(bin, 'render', '-f', 'kourier.yaml');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'render', '-f', join(work, 'kourier.yaml')], {
      encoding: 'utf8',
    });
    assert.equal(r.stdout, cli.stdout);
    assert.ok(parseAllDocuments(r.stdout).length > 5);
  });

  it('a bad flag: exit 2; dynamically imported code (certs) is inside the binary', () => {
    assert.equal(run(bin, 'render', '--nope').status, 2);
    const c = run(bin, 'certs', '--domain', 'apps.example.com', '--output-dir', join(work, 'certs'), '-o', 'json');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).files.length, 4);
  });

  it("linked as kubectl_complete-serverless_mesh it answers kubectl's plugin completion", () => {
    const link = join(dir, 'bin', 'kubectl_complete-serverless_mesh');
    symlinkSync(bin, link);
    const r = run('kubectl_complete-serverless_mesh', 'render', '-o', '');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'yaml\njson\ntext\n:4\n');
  });
});
