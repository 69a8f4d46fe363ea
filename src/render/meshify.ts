import { Composer, CST, isAlias, isMap, isScalar, Parser, type Document, type Node, YAMLMap } from 'yaml';
import { InputErrors } from '../util/errors.ts';
import { formatError, parseYamlDocs } from '../util/yaml-source.ts';
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
 * Works on the YAML document tree so comments, key order, quoting survive; documents it does not
 * change are copied byte for byte. An explicit `sidecar.istio.io/inject: "false"` is the user's
 * choice and is kept. A map on the way that is an alias is expanded in place (so the anchor's other
 * users do not change); one that is not a map is an error (nothing is replaced silently).
 */
export function meshify(file: string, text: string): MeshifyResult {
  const { errors } = parseYamlDocs(file, text);
  if (errors.length > 0) throw new InputErrors(errors);
  const tokens = [...new Parser().parse(text)];
  const docs = [...new Composer({ uniqueKeys: false, merge: true, version: '1.2' }).compose(tokens)] as Document[];
  const lines: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines.push(i + 1);
  const at = (offset: number | undefined) => {
    const o = offset ?? 0;
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lines[mid] as number) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - (lines[lo] as number) + 1 };
  };
  const changes: string[] = [];
  const bad: string[] = [];
  const changedDocs = new Set<number>();
  docs.forEach((doc, di) => {
    const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
    if (!isKsvc(value)) return;
    const ref = `${value.metadata?.namespace ?? '(default)'}/${value.metadata?.name ?? '(unnamed)'}`;
    const ensure = (path: string[], key: string, what: string) => {
      const map = ensureMap(doc, path, (p, node, message) => bad.push(formatError(file, at(node?.range?.[0]), p, message)), (p, alias) => {
        changes.push(`${file}: ${ref}: expanded alias *${alias} at ${p.join('.')} (its anchor is left as it was)`);
        changedDocs.add(di);
      });
      if (!map || map.has(key)) return;
      const v = doc.createNode('true');
      if (isScalar(v)) v.type = 'QUOTE_DOUBLE';
      map.set(doc.createNode(key), v);
      changes.push(`${file}: ${ref}: added ${what} ${key}: "true"`);
      changedDocs.add(di);
    };
    ensure(['metadata', 'annotations'], PASSTHROUGH, 'annotation');
    ensure(['spec', 'template', 'metadata', 'labels'], INJECT, 'template label');
    ensure(['spec', 'template', 'metadata', 'annotations'], REWRITE_PROBES, 'template annotation');
  });
  if (bad.length > 0) throw new InputErrors([...new Set(bad)]);
  if (changedDocs.size === 0) return { text, changes };
  // Unchanged documents are copied from the source (CST tokens are lossless); changed ones are printed.
  let di = -1;
  let out = '';
  for (const tok of tokens) {
    if (tok.type !== 'document') {
      out += CST.stringify(tok);
      continue;
    }
    di++;
    const doc = docs[di];
    if (!doc || !changedDocs.has(di)) {
      out += CST.stringify(tok);
      continue;
    }
    let body = doc.toString({ lineWidth: 0 });
    // A document that follows another needs its `---`; the printer adds it only when the source had one.
    if (di > 0 && !body.startsWith('---') && !out.endsWith('---\n') && out !== '') body = `---\n${body}`;
    if (out !== '' && !out.endsWith('\n')) out += '\n';
    out += body;
  }
  return { text: out, changes };
}

/**
 * The map at `path`, created (block style) where missing, an alias on the way expanded in place.
 * A node that is there but not a map is reported through `bad` (undefined is returned).
 */
function ensureMap(
  doc: Document,
  path: string[],
  bad: (path: string[], node: Node | undefined, message: string) => void,
  expanded: (path: string[], alias: string) => void,
): YAMLMap | undefined {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    const map = node as YAMLMap;
    let next: unknown = map.get(key, true);
    if (isAlias(next)) {
      const target = next.resolve(doc);
      if (isMap(target)) {
        const copy = target.clone() as YAMLMap;
        copy.anchor = undefined;
        map.set(doc.createNode(key), copy);
        expanded(path.slice(0, i + 1), next.source);
        next = copy;
      } else next = target;
    }
    if (isMap(next)) {
      node = next;
      continue;
    }
    if (next !== undefined && next !== null && !(isScalar(next) && next.value === null)) {
      bad(path.slice(0, i + 1), next as Node, `expected a mapping, got ${isScalar(next) ? typeof next.value : 'a list'}; not changed`);
      return undefined;
    }
    const created = new YAMLMap();
    map.set(doc.createNode(key), created);
    node = created;
  }
  return node as YAMLMap;
}
