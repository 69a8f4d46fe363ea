#!/usr/bin/env node
// tsx's module hooks cost ~0.45 s of start-up, so the CLI runs from the esbuild bundle dist/cli.mjs
// (scripts/build.mjs; `npm ci` builds it) when that is newer than src/, package.json and the installed
// dependencies. Otherwise, or with SERVERLESS_MESH_NO_BUNDLE=1, it runs the TypeScript sources
// through tsx, so it works straight from a clone and a stale bundle is never used.
// SERVERLESS_MESH_DEBUG_LOADER=1 prints the path taken to stderr.
import { fileURLToPath } from 'node:url';
import { bundleIsFresh } from './bundle-fresh.js';

const flag = (name) => !!process.env[name] && process.env[name] !== '0';
const bundle = !flag('SERVERLESS_MESH_NO_BUNDLE') && bundleIsFresh(fileURLToPath(new URL('..', import.meta.url)));
if (flag('SERVERLESS_MESH_DEBUG_LOADER')) process.stderr.write(`serverless-mesh: loader: ${bundle ? 'bundle' : 'tsx'}\n`);

if (bundle) {
  process.setSourceMapsEnabled(true); // stack traces name src/ files (dist/cli.mjs.map), as under tsx; ~20 ms
  await import('../dist/cli.mjs'); // runs main(process.argv) and sets process.exitCode
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
