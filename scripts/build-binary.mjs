#!/usr/bin/env node
// Builds the single executable `dist/kubectl-serverless_mesh` (Node 20's single-executable
// applications, https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html):
//   1. esbuild bundles the CLI into one CommonJS script, dependencies included and dynamic imports
//      inlined (a SEA runs one script and can require() builtins only; dist/cli.mjs is ESM and keeps
//      @kubernetes/client-node external, so it cannot be used as is);
//   2. `node --experimental-sea-config` turns it into a preparation blob;
//   3. a copy of this node executable gets the blob as its NODE_SEA_BLOB resource, injected by
//      postject (devDependency), which also flips the NODE_SEA_FUSE sentinel.
// The result needs neither node nor node_modules. Link or copy it as `kubectl_complete-serverless_mesh`
// for kubectl's plugin completion (src/cli/main.ts answers under that name).
//   npm run build:binary            → dist/kubectl-serverless_mesh
//   node scripts/build-binary.mjs OUT
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BINARY = join(ROOT, 'dist', 'kubectl-serverless_mesh');
/** The fuse postject flips; Node's documented value for SEAs. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// No top-level await in CommonJS: the exit code is set when main settles.
const ENTRY = `import { main } from './src/cli/main.ts';\nmain(process.argv).then((code) => { process.exitCode = code; });\n`;

/**
 * Optional dependencies that are not installed (node-fetch's `encoding`, ws' `bufferutil`, debug's
 * `supports-color`, …) are require()d in a try block; esbuild leaves such calls to run time, where a
 * SEA's require() prints a warning for anything but a builtin. They become a module that throws
 * MODULE_NOT_FOUND, as the require would have, silently. Anything else unresolved still fails the build.
 */
const missingOptional = {
  name: 'missing-optional',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'require-call' || args.pluginData?.probe || isBuiltin(args.path)) return undefined;
      const r = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { probe: true },
      });
      if (r.errors.length === 0) return { path: r.path, external: r.external, namespace: r.namespace, sideEffects: r.sideEffects };
      return { path: args.path, namespace: 'missing-optional' };
    });
    build.onLoad({ filter: /.*/, namespace: 'missing-optional' }, (args) => ({
      contents: `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}' (not installed when the single executable was built)`)});\ne.code = 'MODULE_NOT_FOUND';\nthrow e;\n`,
      loader: 'js',
    }));
  },
};

/** The CommonJS bundle for the SEA: everything inlined, nothing resolved at run time. */
export async function bundleCjs(outfile) {
  const result = await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: 'sea-entry.ts', loader: 'ts' },
    outfile,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [missingOptional],
  });
  for (const w of result.warnings)
    process.stderr.write(`build-binary: warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}\n`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

export async function buildBinary(out = BINARY) {
  const started = performance.now();
  let postject;
  try {
    postject = createRequire(join(ROOT, 'package.json')).resolve('postject/dist/cli.js');
  } catch {
    throw new Error('postject is not installed: it is a devDependency (postject@1.0.0-alpha.6), run npm ci');
  }
  const work = mkdtempSync(join(tmpdir(), 'serverless-mesh-sea-'));
  try {
    const script = join(work, 'cli.cjs');
    const blob = join(work, 'sea-prep.blob');
    await bundleCjs(script);
    const config = join(work, 'sea-config.json');
    writeFileSync(
      config,
      JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }),
    );
    run(process.execPath, ['--experimental-sea-config', config]);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    copyFileSync(process.execPath, tmp);
    chmodSync(tmp, 0o755);
    try {
      run(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
      rmSync(out, { force: true });
      copyFileSync(tmp, out);
      chmodSync(out, 0o755);
    } finally {
      rmSync(tmp, { force: true });
    }
    return { file: out, ms: performance.now() - started };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { file, ms } = await buildBinary(process.argv[2] ?? BINARY);
    process.stdout.write(`build-binary: ${relative(process.cwd(), file) || file} in ${Math.round(ms)} ms\n`);
  } catch (e) {
    const errors = e && typeof e === 'object' && Array.isArray(e.errors) ? e.errors : [];
    for (const m of errors)
      process.stderr.write(`build-binary: error: ${m.text}${m.location ? ` (${m.location.file}:${m.location.line})` : ''}\n`);
    if (errors.length === 0) process.stderr.write(`build-binary: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
