// Is dist/cli.mjs (scripts/build.mjs) newer than everything it was built from? bin/serverless-mesh.js
// runs the bundle only then, so an edit to src/ or a dependency change (npm rewrites
// node_modules/.package-lock.json on install) is never hidden by a stale bundle. ~1 ms for src/.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const BUNDLE = 'dist/cli.mjs';
/** What the bundle is built from, relative to the package root; directories are walked. */
export const BUNDLE_INPUTS = ['src', 'package.json', 'node_modules/.package-lock.json', 'scripts/build.mjs'];

const missing = (e) => e && typeof e === 'object' && (e.code === 'ENOENT' || e.code === 'ENOTDIR');

/**
 * True when `path` (and, for a directory, everything under it, directories included: their
 * mtime changes when an entry is added, removed or renamed) is older than `mtimeMs`.
 * A path that does not exist is not newer.
 */
function olderThan(path, mtimeMs) {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if (missing(e)) return true;
    throw e;
  }
  if (st.mtimeMs >= mtimeMs) return false;
  if (!st.isDirectory()) return true;
  for (const name of readdirSync(path)) if (!olderThan(join(path, name), mtimeMs)) return false;
  return true;
}

/**
 * True when `bundle` exists and is strictly newer than every input (files, or directories walked
 * recursively). Any error other than a missing input says "not fresh": the caller falls back to the
 * sources, which is always correct.
 */
export function isFresh(bundle, inputs) {
  try {
    const { mtimeMs } = statSync(bundle);
    return inputs.every((p) => olderThan(p, mtimeMs));
  } catch {
    return false;
  }
}

/** isFresh for the package rooted at `root`. */
export const bundleIsFresh = (root) =>
  isFresh(
    join(root, BUNDLE),
    BUNDLE_INPUTS.map((p) => join(root, p)),
  );
