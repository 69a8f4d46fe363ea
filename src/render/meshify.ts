import { isMap, isScalar, parseAllDocuments, type Document, YAMLMap } from 'yaml';
import { InputErrors } from '../util/errors.ts';
import { parseYamlDocs } from '../util/yaml-source.ts';
import { INJECT, PASSTHROUGH, REWRITE_PROBES } from '../model/constants.ts';

export interface MeshifyResult {
  text: string;
  /** Human-readable list of what was added, e.g. `team-a/hello: added label sidecar.istio.io/inject`. */
  changes: string[];
}

const isKsvc = (v: unknown): v is { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } } =>
  v !== null &&
  typeof v === 'object' &&
  (v as { kind?: unknown }).kind === 'Service' &&
  String((v as { apiVersion?: unknown }).apiVersion).startsWith('serving.knative.dev/');

/**
 * Adds what a Knative Service needs to run in the mesh and touches nothing else: the passthrough
 * annotation, the injection label and the probe-rewrite annotation on the revision template.
 * Works on the YAML document tree so comments, key order, quoting and other documents survive.
 * An explicit `sidecar.istio.io/inject: "false"` is the user's choice and is kept.
 */
export function meshify(file: string, text: string): MeshifyResult {
  const { errors } = parseYamlDocs(file, text);
  if (errors.length > 0) throw new InputErrors(errors);
  const docs = parseAllDocuments(text, { uniqueKeys: true }) as Document[];
  const changes: string[] = [];
  let changed = false;
  for (const doc of docs) {
    const value = doc.toJS() as unknown;
    if (!isKsvc(value)) continue;
    const ref = `${value.metadata?.namespace ?? '(default)'}/${value.metadata?.name ?? '(unnamed)'}`;
    const ensure = (path: string[], key: string, what: string) => {
      const map = ensureMap(doc, path);
      if (map.has(key)) return;
      const v = doc.createNode('true');
      if (isScalar(v)) v.type = 'QUOTE_DOUBLE';
      map.set(doc.createNode(key), v);
      changes.push(`${file}: ${ref}: added ${what} ${key}: "true"`);
      changed = true;
    };
    ensure(['metadata', 'annotations'], PASSTHROUGH, 'annotation');
    ensure(['spec', 'template', 'metadata', 'labels'], INJECT, 'template label');
    ensure(['spec', 'template', 'metadata', 'annotations'], REWRITE_PROBES, 'template annotation');
  }
  if (!changed) return { text, changes };
  // A document that had an explicit `---` prints it itself; the others after the first need one.
  const out = docs.map((d, i) => {
    const body = d.toString({ lineWidth: 0 });
    return i === 0 || body.startsWith('---') ? body : `---\n${body}`;
  });
  return { text: out.join(''), changes };
}

/** The map at `path`, created (block style) where missing. */
function ensureMap(doc: Document, path: string[]): YAMLMap {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    if (!isMap(node)) throw new Error(`meshify: ${path.slice(0, i).join('.')} is not a map`);
    const next: unknown = node.get(key, true);
    if (isMap(next)) {
      node = next;
      continue;
    }
    const created = new YAMLMap();
    node.set(doc.createNode(key), created);
    node = created;
  }
  return node as YAMLMap;
}
