#!/usr/bin/env node
// Bundles the CLI into dist/cli.mjs (+ dist/cli.mjs.map) with esbuild. bin/serverless-mesh.js runs
// the bundle instead of src/ through tsx when the bundle is newer than its inputs (bin/bundle-fresh.js):
// start-up ~0.2 s instead of ~0.6 s. Built by `npm ci` (prepare), `npm run build` and scripts/run-tests.mjs.
//   node scripts/build.mjs
import { mkdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUTFILE = join(ROOT, 'dist', 'cli.mjs');

// Same as bin's tsx path: run main(process.argv) and hand its result to the exit code.
const ENTRY = `import { main } from './src/cli/main.ts';\nprocess.exitCode = await main(process.argv);\n`;

// Bundled CommonJS dependencies call require() for node builtins; an ES module has no require.
const BANNER = `import { createRequire as __serverlessMeshCreateRequire } from 'node:module';\nconst require = __serverlessMeshCreateRequire(import.meta.url);`;

/**
 * Builds dist/cli.mjs. The bundle's mtime is set to the moment the build started (read from the
 * file system's own clock, floored to the millisecond), so a source edited while esbuild runs is
 * newer than the bundle and bin falls back to tsx instead of trusting it.
 */
export async function build() {
  const started = performance.now();
  mkdirSync(dirname(OUTFILE), { recursive: true });
  // Temporary files in dist/ and renames: a CLI starting meanwhile sees the old bundle or the new one.
  const tmpJs = `${OUTFILE}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const tmpMap = `${tmpJs}.map`;
  try {
    writeFileSync(tmpJs, '');
    const startedOnDisk = new Date(Math.floor(statSync(tmpJs).mtimeMs));
    const result = await esbuild.build({
      stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: 'bin-entry.ts', loader: 'ts' },
      outfile: OUTFILE,
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Only imported (dynamically) for exec/auth-provider kubeconfigs, and large.
      external: ['@kubernetes/client-node'],
      banner: { js: BANNER },
      sourcemap: 'linked',
      sourcesContent: false, // the map points at src/ and node_modules/, which are on disk
      legalComments: 'none',
      write: false,
      logLevel: 'silent',
    });
    for (const w of result.warnings) process.stderr.write(formatMessage('warning', w));
    const js = result.outputFiles.find((f) => f.path === OUTFILE);
    const map = result.outputFiles.find((f) => f.path === `${OUTFILE}.map`);
    if (!js || !map) throw new Error(`esbuild did not produce ${relative(ROOT, OUTFILE)} and its map`);
    // The map first: a bundle that appears is complete and its map is in place.
    writeFileSync(tmpMap, map.contents);
    renameSync(tmpMap, `${OUTFILE}.map`);
    writeFileSync(tmpJs, js.contents);
    utimesSync(tmpJs, startedOnDisk, startedOnDisk);
    renameSync(tmpJs, OUTFILE);
    return { file: OUTFILE, bytes: js.contents.byteLength, ms: performance.now() - started };
  } finally {
    rmSync(tmpJs, { force: true });
    rmSync(tmpMap, { force: true });
  }
}

function formatMessage(kind, m) {
  const loc = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
  return `build: ${loc}${kind}: ${m.text}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { file, bytes, ms } = await build();
    process.stdout.write(
      `build: ${relative(process.cwd(), file) || file} ${(bytes / 1024 / 1024).toFixed(2)} MiB in ${Math.round(ms)} ms\n`,
    );
  } catch (e) {
    // esbuild's BuildFailure carries the messages; anything else (I/O) has a message of its own.
    const errors = e && typeof e === 'object' && Array.isArray(e.errors) ? e.errors : [];
    for (const m of errors) process.stderr.write(formatMessage('error', m));
    if (errors.length === 0) process.stderr.write(`build: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
