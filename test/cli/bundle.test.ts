import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BUNDLE_INPUTS, bundleIsFresh, isFresh } from '../../bin/bundle-fresh.js';
import { ROOT } from '../helpers/shared.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'sm-bundle-'));
const NOW = Date.now() / 1000;
/** Sets a path's mtime to `ago` seconds before the test started. */
const age = (path: string, ago: number) => utimesSync(path, NOW - ago, NOW - ago);
const write = (path: string, text = '') => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};
// The loader's own flags are set per run; the caller's environment must not leak into them.
const cleanEnv = (extra: Record<string, string> = {}) => {
  const env: Record<string, string | undefined> = { ...process.env, SERVERLESS_MESH_DEBUG_LOADER: '1', ...extra };
  if (!('SERVERLESS_MESH_NO_BUNDLE' in extra)) delete env.SERVERLESS_MESH_NO_BUNDLE;
  return env;
};

describe('bundle freshness (bin/bundle-fresh.js)', () => {
  /** A package root: src/ two levels deep, package.json, the hidden lockfile; all 100 s old. */
  function tree(): string {
    const root = tmp();
    for (const f of [
      'src/cli/main.ts',
      'src/render/index.ts',
      'src/render/deep/x.ts',
      'package.json',
      'node_modules/.package-lock.json',
      'scripts/build.mjs',
    ])
      write(join(root, f));
    for (const p of [
      'src/cli/main.ts',
      'src/render/index.ts',
      'src/render/deep/x.ts',
      'src/render/deep',
      'src/render',
      'src/cli',
      'src',
      'package.json',
      'node_modules/.package-lock.json',
      'scripts/build.mjs',
    ])
      age(join(root, p), 100);
    write(join(root, 'dist/cli.mjs'));
    age(join(root, 'dist/cli.mjs'), 50);
    return root;
  }

  it('the inputs are src/, package.json, the installed dependencies and the build script', () => {
    assert.deepEqual([...BUNDLE_INPUTS].sort(), ['node_modules/.package-lock.json', 'package.json', 'scripts/build.mjs', 'src']);
  });

  it('a bundle newer than every input is fresh', () => {
    assert.equal(bundleIsFresh(tree()), true);
  });

  it('no bundle: not fresh', () => {
    const root = tree();
    rmSync(join(root, 'dist/cli.mjs'));
    assert.equal(bundleIsFresh(root), false);
  });

  it('a source file edited after the build, however deep: not fresh', () => {
    for (const f of ['src/cli/main.ts', 'src/render/deep/x.ts']) {
      const root = tree();
      age(join(root, f), 10);
      assert.equal(bundleIsFresh(root), false, f);
    }
  });

  it('a source file added, removed or renamed (only the directory mtime changes): not fresh', () => {
    const added = tree();
    write(join(added, 'src/render/deep/new.ts'));
    age(join(added, 'src/render/deep/new.ts'), 100); // e.g. restored with an old mtime
    assert.equal(bundleIsFresh(added), false);

    const removed = tree();
    rmSync(join(removed, 'src/render/index.ts'));
    assert.equal(bundleIsFresh(removed), false);
  });

  it('package.json or a dependency change (npm rewrites node_modules/.package-lock.json): not fresh', () => {
    for (const f of ['package.json', 'node_modules/.package-lock.json', 'scripts/build.mjs']) {
      const root = tree();
      age(join(root, f), 10);
      assert.equal(bundleIsFresh(root), false, f);
    }
  });

  it('an input with the same mtime as the bundle counts as newer', () => {
    const root = tree();
    age(join(root, 'src/cli/main.ts'), 50);
    assert.equal(bundleIsFresh(root), false);
  });

  it('a missing input is not newer (e.g. an installed package without src/ or a lockfile)', () => {
    const root = tree();
    rmSync(join(root, 'src'), { recursive: true });
    rmSync(join(root, 'node_modules'), { recursive: true });
    assert.equal(bundleIsFresh(root), true);
    assert.equal(isFresh(join(root, 'dist/cli.mjs'), [join(root, 'nope'), join(root, 'package.json', 'below-a-file')]), true);
  });

  it('checks this repository in a few milliseconds', () => {
    bundleIsFresh(ROOT);
    const t = performance.now();
    for (let i = 0; i < 10; i++) bundleIsFresh(ROOT);
    const ms = (performance.now() - t) / 10;
    assert.ok(ms < 20, `${ms.toFixed(2)} ms per check`);
  });
});

describe('bin/serverless-mesh.js chooses bundle or sources', () => {
  // A copy of bin/ in a package whose "bundle" and "sources" only say who ran; node_modules is the
  // real one (tsx). Nothing here touches the repository's dist/, which other test files use.
  function pkg(): string {
    const root = tmp();
    write(join(root, 'package.json'), '{"type":"module"}\n');
    for (const f of ['serverless-mesh.js', 'bundle-fresh.js']) write(join(root, 'bin', f), readFileSync(join(ROOT, 'bin', f), 'utf8'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    write(
      join(root, 'src/cli/main.ts'),
      `export async function main(argv: string[]): Promise<number> {\n  process.stdout.write('sources ' + argv.slice(2).join(' '));\n  return 3;\n}\n`,
    );
    write(join(root, 'dist/cli.mjs'), `process.stdout.write('bundle ' + process.argv.slice(2).join(' '));\nprocess.exitCode = 4;\n`);
    for (const p of ['src/cli/main.ts', 'src/cli', 'src', 'package.json']) age(join(root, p), 100);
    age(join(root, 'dist/cli.mjs'), 0); // newer than the real node_modules/.package-lock.json too
    return root;
  }
  const bin = (root: string, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(root, 'bin/serverless-mesh.js'), 'a', 'b'], { encoding: 'utf8', env: cleanEnv(env) });

  it('fresh bundle: runs it, with the arguments and its exit code', () => {
    const res = bin(pkg());
    assert.equal(res.stderr, 'serverless-mesh: loader: bundle\n');
    assert.equal(res.stdout, 'bundle a b');
    assert.equal(res.status, 4);
  });

  it('a source newer than the bundle: runs the sources through tsx', () => {
    const root = pkg();
    age(join(root, 'src/cli/main.ts'), 0);
    utimesSync(join(root, 'dist/cli.mjs'), NOW - 10, NOW - 10);
    const res = bin(root);
    assert.equal(res.stderr, 'serverless-mesh: loader: tsx\n');
    assert.equal(res.stdout, 'sources a b');
    assert.equal(res.status, 3);
  });

  it('no bundle, or SERVERLESS_MESH_NO_BUNDLE=1: the sources', () => {
    const root = pkg();
    assert.equal(bin(root, { SERVERLESS_MESH_NO_BUNDLE: '1' }).stdout, 'sources a b');
    assert.equal(bin(root, { SERVERLESS_MESH_NO_BUNDLE: '0' }).stdout, 'bundle a b');
    rmSync(join(root, 'dist/cli.mjs'));
    assert.equal(bin(root).stdout, 'sources a b');
  });
});

describe('the real bundle (dist/cli.mjs)', () => {
  const BIN = join(ROOT, 'bin/serverless-mesh.js');
  // scripts/run-tests.mjs builds before the tests; build again if the sources changed since.
  const ensureFresh = () => {
    if (bundleIsFresh(ROOT)) return;
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8', cwd: ROOT });
    assert.equal(b.status, 0, b.stderr);
  };
  const run = (args: string[], env: Record<string, string> = {}) => {
    if (!env.SERVERLESS_MESH_NO_BUNDLE) ensureFresh();
    return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: cleanEnv(env) });
  };
  before(ensureFresh);

  for (const args of [['--help'], ['render', '-f', 'examples/ossm2-basic.yaml', '--certs-dir', '<tmp>']]) {
    it(`${args.join(' ')}: same output as from the sources`, () => {
      // Shared certificate directory: the second run reuses the first one's certificate.
      const certs = tmp();
      const argv = args.map((a) => (a === '<tmp>' ? certs : a));
      const fromBundle = run(argv);
      const fromSources = run(argv, { SERVERLESS_MESH_NO_BUNDLE: '1' });
      assert.equal(fromBundle.stderr, 'serverless-mesh: loader: bundle\n');
      assert.equal(fromSources.stderr, 'serverless-mesh: loader: tsx\n');
      assert.equal(fromBundle.status, 0);
      assert.ok(fromBundle.stdout.length > 500);
      assert.equal(fromBundle.stdout, fromSources.stdout);
      assert.equal(fromBundle.status, fromSources.status);
    });
  }

  it('the source map points into src/', () => {
    const map = JSON.parse(readFileSync(join(ROOT, 'dist/cli.mjs.map'), 'utf8')) as { sources: string[] };
    assert.ok(map.sources.includes('../src/cli/main.ts'), map.sources.slice(0, 5).join(', '));
    assert.match(readFileSync(join(ROOT, 'dist/cli.mjs'), 'utf8').slice(-100), /\/\/# sourceMappingURL=cli\.mjs\.map\n$/);
  });
});
