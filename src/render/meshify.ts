import { Composer, CST, isAlias, isMap, isPair, isScalar, isSeq, Parser, type Document, type Node, YAMLMap } from 'yaml';
import { InputErrors } from '../util/errors.ts';
import { formatError, parseYamlDocs } from '../util/yaml-source.ts';
import { INJECT, PASSTHROUGH, REWRITE_PROBES } from '../model/constants.ts';

/** The extended resource of NVIDIA GPUs (docs chapter 5). */
export const GPU_RESOURCE = 'nvidia.com/gpu';

export interface MeshifyOptions {
  /**
   * Set (or change) the `nvidia.com/gpu` limit of the serving container to this many GPUs, as
   * `kn service create|update --limit nvidia.com/gpu=N` does (seed 003 §5.1 steps 1 and 2).
   */
  gpu?: number;
}

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
export function meshify(file: string, text: string, opts: MeshifyOptions = {}): MeshifyResult {
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
      const map = ensureMap(
        doc,
        path,
        (p, node, message) => bad.push(formatError(file, at(node?.range?.[0]), p, message)),
        (p, alias) => {
          changes.push(`${file}: ${ref}: expanded alias *${alias} at ${p.join('.')} (its anchor is left as it was)`);
          changedDocs.add(di);
        },
      );
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
    if (opts.gpu !== undefined) {
      const report = (p: string[], node: Node | undefined, message: string) =>
        bad.push(formatError(file, at(node?.range?.[0]), p, message));
      const expanded = (p: string[], alias: string) => {
        changes.push(`${file}: ${ref}: expanded alias *${alias} at ${p.join('.')} (its anchor is left as it was)`);
        changedDocs.add(di);
      };
      const c = setGpuLimit(doc, opts.gpu, report, expanded);
      if (c) {
        changes.push(`${file}: ${ref}: ${c}`);
        changedDocs.add(di);
      }
    }
  });
  if (bad.length > 0) throw new InputErrors([...new Set(bad)]);
  if (changedDocs.size === 0) return { text, changes };
  // Unchanged documents are copied from the source (CST tokens are lossless); changed ones are printed.
  let di = -1;
  let out = '';
  // Comments before a document are tokens of their own, copied as they are, and also the composed
  // document's commentBefore: printed once, not twice.
  let commentsCopied = false;
  for (const tok of tokens) {
    if (tok.type !== 'document') {
      out += CST.stringify(tok);
      if (tok.type === 'comment') commentsCopied = true;
      continue;
    }
    di++;
    const doc = docs[di];
    const copiedBefore = commentsCopied;
    commentsCopied = false;
    if (!doc || !changedDocs.has(di)) {
      out += CST.stringify(tok);
      continue;
    }
    if (copiedBefore) dropCopiedComments(doc, CST.stringify(tok));
    let body = doc.toString({ lineWidth: 0 });
    // A document that follows another needs its `---`; the printer adds it only when the source had one.
    if (di > 0 && !body.startsWith('---') && !out.endsWith('---\n') && out !== '') body = `---\n${body}`;
    if (out !== '' && !out.endsWith('\n')) out += '\n';
    out += body;
  }
  return { text: out, changes };
}

/**
 * The composer attaches the comment lines before a document (copied already, as tokens of their
 * own) to the document or to its first key: a comment that is not in the document's own source
 * text is removed there, so it is printed once.
 */
function dropCopiedComments(doc: Document, own: string): void {
  const notOwn = (c: string | null | undefined) => !!c && c.split('\n').some((l) => !own.includes(`#${l}`));
  if (notOwn(doc.commentBefore)) doc.commentBefore = null;
  const first = isMap(doc.contents) || isSeq(doc.contents) ? doc.contents.items[0] : undefined;
  const key: unknown = isPair(first) ? first.key : first;
  if (key && typeof key === 'object' && 'commentBefore' in key && notOwn((key as Node).commentBefore)) (key as Node).commentBefore = null;
  if (doc.contents && notOwn(doc.contents.commentBefore)) doc.contents.commentBefore = null;
}

/**
 * The index of the serving container, as kn picks it for `--limit`: the first container that
 * declares ports, else the first container (a single-container ksvc: that one).
 */
export function servingContainerIndex(containers: ReadonlyArray<{ ports?: unknown } | null | undefined>): number {
  const i = containers.findIndex((c) => Array.isArray(c?.ports) && c.ports.length > 0);
  return i === -1 ? 0 : i;
}

/**
 * Sets `resources.limits["nvidia.com/gpu"]` of the serving container to `gpu` (a request for the
 * GPU, when there is one, is changed too: for an extended resource Kubernetes requires request =
 * limit). Returns what changed, or undefined when the limit already was `gpu` or on an error.
 */
function setGpuLimit(
  doc: Document,
  gpu: number,
  bad: (path: string[], node: Node | undefined, message: string) => void,
  expanded: (path: string[], alias: string) => void,
): string | undefined {
  const cpath = ['spec', 'template', 'spec', 'containers'];
  let seq: unknown = doc.getIn(cpath, true);
  if (isAlias(seq)) seq = seq.resolve(doc);
  if (!isSeq(seq) || seq.items.length === 0) {
    bad(cpath, (seq ?? undefined) as Node | undefined, '--gpu: expected a list of containers; not changed');
    return undefined;
  }
  const js = seq.toJSON() as Array<{ name?: string; ports?: unknown }>;
  const idx = servingContainerIndex(js);
  const path = [...cpath, String(idx)];
  let container: unknown = seq.items[idx];
  if (isAlias(container)) {
    const target = container.resolve(doc);
    if (isMap(target)) {
      const copy = target.clone() as YAMLMap;
      copy.anchor = undefined;
      seq.items[idx] = copy;
      expanded(path, container.source);
      container = copy;
    } else container = target;
  }
  if (!isMap(container)) {
    bad(path, container as Node, '--gpu: expected a container mapping; not changed');
    return undefined;
  }
  const name = js[idx]?.name ? `container ${js[idx]?.name}` : `containers[${idx}]`;
  const limits = ensureMapUnder(doc, container, path, ['resources', 'limits'], bad, expanded);
  if (!limits) return undefined;
  const was = setQuantity(doc, limits, gpu);
  if (was === gpu) return undefined;
  let note = '';
  const requests = ensureMapUnder(doc, container, path, ['resources'], bad, expanded)?.get('requests', true);
  if (isMap(requests) && requests.has(GPU_RESOURCE)) {
    setQuantity(doc, requests, gpu);
    note = ' (and its request: Kubernetes requires request = limit for GPUs)';
  }
  return was === undefined
    ? `${name}: set limit ${GPU_RESOURCE}: ${gpu}${note}`
    : `${name}: changed limit ${GPU_RESOURCE} from ${was} to ${gpu}${note}`;
}

/** Sets `map[GPU_RESOURCE]` to `n`, keeping a quoted value quoted; returns the old value (a number when it was one). */
function setQuantity(doc: Document, map: YAMLMap, n: number): number | string | undefined {
  const old = map.get(GPU_RESOURCE, true);
  if (isScalar(old)) {
    const was = old.value;
    const wasN = typeof was === 'string' && /^\d+$/.test(was) ? Number(was) : was;
    if (wasN === n) return n;
    old.value = typeof was === 'string' ? String(n) : n;
    return typeof wasN === 'number' || typeof wasN === 'string' ? wasN : String(wasN);
  }
  map.set(doc.createNode(GPU_RESOURCE), doc.createNode(n));
  return old === undefined ? undefined : String(old);
}

/** ensureMap from a node other than the document's root; paths in errors are prefixed with `base`. */
function ensureMapUnder(
  doc: Document,
  start: YAMLMap,
  base: string[],
  path: string[],
  bad: (path: string[], node: Node | undefined, message: string) => void,
  expanded: (path: string[], alias: string) => void,
): YAMLMap | undefined {
  return ensureMap(
    doc,
    path,
    (p, n, m) => bad([...base, ...p], n, m),
    (p, a) => expanded([...base, ...p], a),
    start,
  );
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
  start: unknown = doc.contents,
): YAMLMap | undefined {
  let node: unknown = start;
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
