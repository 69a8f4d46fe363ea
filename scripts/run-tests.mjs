#!/usr/bin/env node
// Runs every test file with Node's own test runner (Node 20 does not expand globs, so the list is
// built here). Integration tests get a real kube-apiserver from scripts/test-env (started once per run).
// The CLI bundle (scripts/build.mjs) is rebuilt first, so CLI tests run the current sources through it.
//   node scripts/run-tests.mjs [substring…]   only files whose path contains one of the substrings
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from './build.mjs';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = findTests('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
const needsCluster = files.some((f) => f.startsWith(join('test', 'integration') + '/'));
// The HTML report's browser tests drive Debian's chromium (scripts/browser-env.mjs).
const needsBrowser = files.some((f) => f.endsWith('.browser.test.ts'));

let env = { ...process.env };
let testEnv;
let stopping;
// A private run directory: another `npm test` or a manual `test-env.mjs start` must not collide with this one.
const runDir = mkdtempSync(join(tmpdir(), 'serverless-mesh-test-env-'));
const stopEnv = () =>
  (stopping ??= (testEnv ? testEnv.stop({ dir: runDir }) : Promise.resolve()).finally(() =>
    rmSync(runDir, { recursive: true, force: true }),
  ));

let child;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    child?.kill(sig);
    void stopEnv().finally(() => process.exit(130));
  });
}

/** Type-check and lint first: tsx strips types, so without this a type error would never fail CI. */
function staticChecks() {
  for (const [what, args] of [
    ['type check (tsc --noEmit)', ['node_modules/typescript/bin/tsc', '-p', '.', '--noEmit']],
    ['lint (eslint)', ['node_modules/eslint/bin/eslint.js', 'src', 'test', 'bench']],
    [
      'format (prettier --check)',
      ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', 'src', 'test', 'bench', 'scripts', 'bin'],
    ],
  ]) {
    process.stderr.write(`run-tests: ${what}\n`);
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${what} failed`);
  }
}

let status = 1;
try {
  if (filter.length === 0 || process.env.SERVERLESS_MESH_STATIC_CHECKS === '1') staticChecks();
  await build();
  if (needsBrowser) (await import('./browser-env.mjs')).install();
  if (needsCluster) {
    // Never skip-and-pass: if the apiserver cannot be built or started, the run fails.
    testEnv = await import('./test-env.mjs');
    testEnv.install(); // apt packages + Kubernetes build on a fresh machine; a cache hit otherwise
    env = { ...env, ...(await testEnv.start({ dir: runDir })) };
  }
  child = spawn(process.execPath, ['--import', 'tsx', '--test', ...files], { stdio: 'inherit', env });
  status = await new Promise((res) => child.on('exit', (code, sig) => res(code ?? (sig ? 1 : 1))));
} catch (e) {
  process.stderr.write(`run-tests: ${e instanceof Error ? e.message : String(e)}\n`);
  status = 1;
} finally {
  await stopEnv();
}
process.exit(status);
