// Reading the user's manifests from files and directories (I/O; the parsing itself is util/yaml-source).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { meshConfigFromObjects, meshOptionsFromMeshConfig } from '../authz/parse.ts';
import { DEFAULT_MESH, type MeshOptions } from '../authz/types.ts';
import { InputErrors, UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { parseYamlDocs } from '../util/yaml-source.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Files named on the command line; a directory stands for its .yaml/.yml/.json files, recursively (like `kubectl -f DIR -R`). */
function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // unreadable paths are reported by the read below
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    const entries = readdirSync(p).sort();
    out.push(...expandPaths(entries.map((e) => join(p, e)).filter((f) => /\.(ya?ml|json)$/.test(f) || statSync(f).isDirectory())));
  }
  return out;
}

/** Reads YAML/JSON manifest files or directories of them (multi-document; `kind: List` is flattened). */
export function readManifests(paths: readonly string[]): KubeObject[] {
  const out: KubeObject[] = [];
  const errors: string[] = [];
  for (const file of expandPaths(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`${file}: cannot read: ${(e as Error).message}`, 2);
    }
    const { docs, errors: errs } = parseYamlDocs(file, text);
    errors.push(...errs);
    for (const d of docs) collect(d.value, out);
  }
  if (errors.length) throw new InputErrors(errors);
  return out;
}

function collect(v: unknown, out: KubeObject[]): void {
  if (!isObj(v)) return;
  if (v.kind === 'List' && Array.isArray(v.items)) {
    for (const i of v.items) collect(i, out);
    return;
  }
  if (typeof v.apiVersion === 'string' && typeof v.kind === 'string' && isObj(v.metadata)) out.push(v as KubeObject);
}

/** `--mesh-config FILE`: a MeshConfig YAML/JSON document (as in the `istio` ConfigMap's `mesh` key). */
export function readMeshConfigFile(file: string, base: MeshOptions = DEFAULT_MESH): MeshOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--mesh-config ${file}: cannot read: ${(e as Error).message}`, 2);
  }
  const { docs, errors } = parseYamlDocs(file, text);
  if (errors.length) throw new InputErrors(errors);
  const doc = docs[0]?.value;
  if (!isObj(doc)) throw new UserError(`--mesh-config ${file}: expected a MeshConfig mapping`, 2);
  // Accept a whole ConfigMap / SMCP / Istio CR too.
  const fromObjects = meshConfigFromObjects([doc as KubeObject]);
  return meshOptionsFromMeshConfig(fromObjects ?? doc, base, `--mesh-config ${file}`);
}
