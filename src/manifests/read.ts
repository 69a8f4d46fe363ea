// Reading the user's manifests from files and directories (I/O; the parsing itself is util/yaml-source).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { meshConfigFromObjects, meshOptionsFromMeshConfig } from '../authz/parse.ts';
import { DEFAULT_MESH, type MeshOptions } from '../authz/types.ts';
import { InputError, InputErrors } from '../util/errors.ts';
import { inputName, readInput, STDIN } from '../util/input.ts';
import type { KubeObject } from '../util/kube.ts';
import { capErrors, formatError, parseYamlDocs, positionOf, type SourceDoc } from '../util/yaml-source.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Files named on the command line; a directory stands for its .yaml/.yml/.json files, recursively (like `kubectl -f DIR -R`). */
function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === STDIN) {
      out.push(p);
      continue;
    }
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
    let entries: string[];
    try {
      entries = readdirSync(p).sort();
    } catch (e) {
      throw new InputError(`${p}: cannot read directory (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const isSubdir = (f: string) => {
      try {
        return statSync(f).isDirectory();
      } catch {
        return false;
      }
    };
    out.push(...expandPaths(entries.map((e) => join(p, e)).filter((f) => /\.(ya?ml|json)$/.test(f) || isSubdir(f))));
  }
  return out;
}

export interface ReadOptions {
  /** Refuse inputs holding no Kubernetes object at all (`verify -m` of an empty file is a mistake, not "no surprises"). */
  requireObjects?: boolean;
}

/**
 * Reads YAML/JSON manifest files or directories of them (multi-document; `kind: List` is flattened;
 * `-` is stdin). A document that is not a Kubernetes object (apiVersion, kind, metadata) is an error,
 * as for kubectl. Throws InputError / InputErrors only (test/properties).
 */
export function readManifests(paths: readonly string[], opts: ReadOptions = {}): KubeObject[] {
  const out: KubeObject[] = [];
  const errors: string[] = [];
  const files = expandPaths(paths);
  for (const file of files) {
    const { docs, errors: errs } = parseManifestText(inputName(file), readInput(file, 'manifest'));
    errors.push(...errs);
    for (const d of docs) collect(d, d.value, [], out, errors);
  }
  if (errors.length) throw new InputErrors(capErrors(errors));
  if (opts.requireObjects && out.length === 0) {
    throw new InputError(`${files.map(inputName).join(', ') || paths.join(', ')}:1:1: no Kubernetes objects found`);
  }
  return out;
}

/** parseYamlDocs for manifests (the property tests call it on arbitrary text). */
export function parseManifestText(file: string, text: string): { docs: SourceDoc[]; errors: string[] } {
  return parseYamlDocs(file, text);
}

/** The Kubernetes objects of parsed manifest text, or its errors (no I/O). */
export function manifestsFromText(file: string, text: string): KubeObject[] {
  const { docs, errors } = parseYamlDocs(file, text);
  const out: KubeObject[] = [];
  for (const d of docs) collect(d, d.value, [], out, errors);
  if (errors.length) throw new InputErrors(capErrors(errors));
  return out;
}

function collect(src: SourceDoc, v: unknown, path: Array<string | number>, out: KubeObject[], errors: string[]): void {
  const bad = (message: string) => errors.push(formatError(src.file, positionOf(src, path), path, message));
  if (!isObj(v)) {
    bad(
      `not a Kubernetes object: expected a mapping with apiVersion, kind and metadata, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`,
    );
    return;
  }
  if (v.kind === 'List' && Array.isArray(v.items)) {
    v.items.forEach((item, i) => collect(src, item, [...path, 'items', i], out, errors));
    return;
  }
  if (typeof v.apiVersion !== 'string' || !v.apiVersion) bad('not a Kubernetes object: apiVersion is missing or not a string');
  else if (typeof v.kind !== 'string' || !v.kind) bad('not a Kubernetes object: kind is missing or not a string');
  else if (!isObj(v.metadata)) bad('not a Kubernetes object: metadata is missing or not a mapping');
  else out.push(v as KubeObject);
}

/** `--mesh-config FILE`: a MeshConfig YAML/JSON document (as in the `istio` ConfigMap's `mesh` key). */
export function readMeshConfigFile(file: string, base: MeshOptions = DEFAULT_MESH): MeshOptions {
  const text = readInput(file, '--mesh-config file');
  const { docs, errors } = parseYamlDocs(inputName(file), text);
  if (errors.length) throw new InputErrors(errors);
  const doc = docs[0]?.value;
  if (!isObj(doc)) throw new InputError(`${inputName(file)}:1:1: --mesh-config: expected a MeshConfig mapping`);
  // Accept a whole ConfigMap / SMCP / Istio CR too.
  const fromObjects = meshConfigFromObjects([doc as KubeObject]);
  return meshOptionsFromMeshConfig(fromObjects ?? doc, base, `--mesh-config ${file}`);
}
