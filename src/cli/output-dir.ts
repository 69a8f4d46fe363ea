// `render --output-dir DIR`: the directory becomes the render's exact image.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileNameFor, toYaml } from '../render/serialize.ts';
import type { KubeObject } from '../util/kube.ts';
import { ensureDir, rmQuiet, writeFilesAtomic } from '../util/output.ts';

/** The list of files the last render wrote (no .yaml/.json extension: `verify -m DIR` skips it). */
export const RENDER_INDEX = '.serverless-mesh-files';
/** fileNameFor's scheme, `NNN-kind-[namespace.]name.ext`: what renders of earlier versions left without an index. */
const OUR_NAME = /^\d{3,}-[a-z0-9]+-[a-z0-9][-a-z0-9.]*\.(yaml|json)$/;

/**
 * Writes one file per object (Secrets 0600, even over an existing file), then removes the files an
 * earlier render wrote that this one does not produce: those listed in RENDER_INDEX, and files
 * named in our scheme. Other files are never touched. Nothing is replaced when a write fails.
 */
export function writeRenderDir(
  dir: string,
  objects: readonly KubeObject[],
  format: 'yaml' | 'json',
): { written: string[]; removed: string[] } {
  ensureDir(dir, '--output-dir');
  const files = objects.map((obj, i) => ({
    path: join(dir, fileNameFor(obj, i, format)),
    body: format === 'json' ? `${JSON.stringify(obj, null, 2)}\n` : toYaml([obj]),
    // A Secret holds a private key: readable by the owner only.
    mode: obj.kind === 'Secret' ? 0o600 : 0o644,
  }));
  const names = new Set(files.map((f) => f.path.slice(dir.length).replace(/^[/\\]+/, '')));
  const previous = new Set<string>();
  try {
    for (const n of readFileSync(join(dir, RENDER_INDEX), 'utf8').split('\n'))
      if (n && !n.includes('/') && !n.startsWith('.')) previous.add(n);
  } catch {
    // no index: a new directory, or one from an earlier version
  }
  for (const n of readdirSync(dir)) if (OUR_NAME.test(n)) previous.add(n);
  writeFilesAtomic([...files, { path: join(dir, RENDER_INDEX), body: `${[...names].join('\n')}\n`, mode: 0o644 }], '--output-dir');
  const removed: string[] = [];
  for (const n of previous) {
    if (names.has(n)) continue;
    rmQuiet(join(dir, n));
    removed.push(n);
  }
  return { written: [...names], removed };
}
