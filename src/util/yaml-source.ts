import {
  Composer,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { sanitizeLine } from './errors.ts';

/**
 * What YAML serverless-mesh reads (README, "The spec"): YAML 1.2 (core schema) and JSON; several
 * documents per file; anchors and aliases, and merge keys `<<` as kubectl reads them, bounded below.
 * Refused, each with a `FILE:LINE:COL` error: `%YAML 1.1` (or any version but 1.2) directives, tags
 * other than the core ones, collection keys, duplicate keys, aliases without an earlier anchor,
 * recursive aliases, and inputs past the limits.
 */
export const YAML_LIMITS = {
  /** Bytes read from one file (or stdin). */
  maxBytes: 16 * 1024 * 1024,
  /** Documents in one file. */
  maxDocs: 10_000,
  /** Nodes of one document once aliases are expanded (a "billion laughs" stops here). */
  maxNodes: 2_000_000,
  /** Nesting depth once aliases are expanded. */
  maxDepth: 100,
  /** Error lines reported for one input; the rest are counted in one more line. */
  maxErrors: 100,
};

const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq', 'merge'].map((t) => `tag:yaml.org,2002:${t}`));

/** One parsed YAML document with what is needed to point at a line and column in its file. */
export interface SourceDoc {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** Plain JS value of the document. */
  value: unknown;
}

export interface Position {
  line: number;
  col: number;
}

export type PathSegment = string | number;

/** `spec.tenants[1].namespaces[0]`; a key that is not a plain word is quoted: `spec["a b"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (!/^[A-Za-z0-9_][-A-Za-z0-9_./]*$/.test(seg)) out += `[${JSON.stringify(seg)}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/**
 * `FILE:LINE:COL: path: message` — the one-line error format used for every input error. Control
 * characters in keys or values are escaped, so the line stays one line and harmless on a terminal.
 */
export function formatError(file: string, pos: Position | undefined, path: readonly PathSegment[], message: string): string {
  const where = `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}`;
  const field = path.length > 0 ? `${formatPath(path)}: ` : '';
  return sanitizeLine(`${where}: ${field}${message}`);
}

/** Caps a list of error lines at YAML_LIMITS.maxErrors, the last line saying how many more there are. */
export function capErrors(lines: string[]): string[] {
  const max = YAML_LIMITS.maxErrors;
  if (lines.length <= max) return lines;
  const next = lines[max] as string;
  const where = /^(.*?:\d+:\d+):/.exec(next)?.[1] ?? 'input:1:1';
  return [...lines.slice(0, max), `${where}: … and ${lines.length - max} more errors (the first ${max} are shown)`];
}

/**
 * Parses a multi-document YAML text strictly (see the header: YAML 1.2 core schema, duplicate keys
 * are errors, bounded aliases). Returns the documents or the list of error lines (each
 * `FILE:LINE:COL: message`); empty documents are skipped. Never throws for any input text.
 */
export function parseYamlDocs(file: string, text: string): { docs: SourceDoc[]; errors: string[] } {
  const lineCounter = new LineCounter();
  const docs: SourceDoc[] = [];
  const errors: string[] = [];
  const at = (offset: number) => lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
  if (text.length > YAML_LIMITS.maxBytes) {
    return { docs, errors: [formatError(file, { line: 1, col: 1 }, [], `input larger than ${YAML_LIMITS.maxBytes / 1048576} MiB`)] };
  }
  let count = 0;
  let prevEnd = 0;
  try {
    const composer = new Composer({ uniqueKeys: false, merge: true, version: '1.2' });
    for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text))) {
      const start = doc.range?.[0] ?? prevEnd;
      if (++count > YAML_LIMITS.maxDocs) {
        errors.push(formatError(file, at(start), [], `more than ${YAML_LIMITS.maxDocs} YAML documents`));
        break;
      }
      const docErrors = checkDocument(file, text, doc, prevEnd, at);
      prevEnd = doc.range?.[2] ?? prevEnd;
      if (docErrors.length > 0) {
        errors.push(...docErrors);
        if (errors.length > YAML_LIMITS.maxErrors) break;
        continue;
      }
      if (doc.contents === null) continue;
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: -1 }); // bounded by checkDocument instead
      } catch (e) {
        errors.push(formatError(file, at(start), [], `invalid YAML: ${firstLine((e as Error).message)}`));
        continue;
      }
      docs.push({ file, doc: doc, lineCounter, value });
    }
  } catch (e) {
    // The YAML composer recurses per nesting level: a hostile nesting exhausts the stack.
    if (!(e instanceof RangeError)) throw e;
    errors.push(formatError(file, at(prevEnd), [], `invalid YAML: nesting deeper than ${YAML_LIMITS.maxDepth} levels`));
  }
  return { docs, errors: capErrors(errors) };
}

/** Everything the loader refuses in one document, as error lines. */
function checkDocument(file: string, text: string, doc: Document.Parsed, prevEnd: number, at: (offset: number) => Position): string[] {
  const out: string[] = [];
  const err = (offset: number | undefined, message: string) => out.push(formatError(file, at(offset ?? doc.range?.[0] ?? 0), [], message));
  const y = doc.directives?.yaml;
  if (y?.explicit && y.version !== '1.2') {
    const slice = text.slice(prevEnd, doc.range?.[0] ?? prevEnd);
    const m = /^%YAML\b/m.exec(slice);
    err(
      m ? prevEnd + m.index : undefined,
      `%YAML ${y.version} is not supported: serverless-mesh reads YAML 1.2 (remove the directive; in 1.2 yes/no/on/off are strings)`,
    );
    return out;
  }
  for (const e of doc.errors) err(e.pos[0], `invalid YAML: ${firstLine(e.message)}`);
  for (const w of doc.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED') continue; // reported by checkTree, once per node
    err(w.pos[0], `invalid YAML: ${firstLine(w.message)}`);
  }
  if (out.length > 0 || doc.contents === null) return out;
  aliasTargets.set(doc, checkTree(doc.contents, err));
  return out;
}

/**
 * One pass over the document tree, iterative (no recursion on hostile depth): tags, keys, aliases
 * (resolved in document order, as YAML defines), merge keys, and the expanded size and depth.
 */
function checkTree(root: Node, err: (offset: number | undefined, message: string) => void): Map<Node, Node> {
  const targets = new Map<Node, Node>();
  const size = new Map<Node, number>();
  const depth = new Map<Node, number>();
  const anchors = new Map<string, Node>();
  const onPath = new Set<Node>();
  const stack: Array<{ n: Node; exit: boolean; level: number }> = [{ n: root, exit: false, level: 1 }];
  let failed = false;
  const children = (n: Node): Node[] => {
    if (isMap(n)) return n.items.flatMap((p) => [p.key, p.value].filter((x): x is Node => isNode(x)));
    if (isSeq(n)) return n.items.filter((x): x is Node => isNode(x));
    return [];
  };
  const resolved = (n: unknown): unknown => (isAlias(n) ? anchors.get(n.source) : n);
  while (stack.length > 0 && !failed) {
    const f = stack.pop()!;
    const n = f.n;
    if (f.exit) {
      onPath.delete(n);
      let s = 1;
      let d = 0;
      for (const c of children(n)) {
        s += size.get(c) ?? 1;
        d = Math.max(d, depth.get(c) ?? 1);
      }
      size.set(n, s);
      depth.set(n, d + 1);
      if (s > YAML_LIMITS.maxNodes) {
        err(n.range?.[0], `document too large: more than ${YAML_LIMITS.maxNodes} nodes once aliases are expanded`);
        failed = true;
      } else if (d + 1 > YAML_LIMITS.maxDepth) {
        err(n.range?.[0], `nesting deeper than ${YAML_LIMITS.maxDepth} levels once aliases are expanded`);
        failed = true;
      }
      continue;
    }
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      if (!target) {
        err(n.range?.[0], `alias *${n.source} has no anchor &${n.source} before it`);
        failed = true;
      } else if (onPath.has(target)) {
        err(n.range?.[0], `alias *${n.source} refers to a node that contains it (recursive alias)`);
        failed = true;
      } else {
        targets.set(n, target);
        size.set(n, size.get(target) ?? 1);
        depth.set(n, depth.get(target) ?? 1);
      }
      continue;
    }
    if (n.anchor) anchors.set(n.anchor, n);
    if (n.tag && !CORE_TAGS.has(n.tag)) {
      err(n.range?.[0], `unsupported tag ${n.tag.replace(/^tag:yaml\.org,2002:/, '!!')} (only the YAML 1.2 core tags are read)`);
      failed = true;
      continue;
    }
    if (f.level > YAML_LIMITS.maxDepth) {
      err(n.range?.[0], `nesting deeper than ${YAML_LIMITS.maxDepth} levels`);
      failed = true;
      continue;
    }
    if (isMap(n)) {
      const seen = new Set<string>();
      for (const p of n.items) {
        const key = resolved(p.key);
        const keyAt = isNode(p.key) ? p.key.range?.[0] : n.range?.[0];
        if (isMergeKey(p.key)) {
          if (!isMergeSource(p.value, resolved)) {
            err(keyAt, 'merge key << needs a mapping, an alias of one, or a list of those');
            failed = true;
          }
          continue;
        }
        if (p.key !== null && !isScalar(key)) {
          err(
            keyAt,
            isAlias(p.key) && !key
              ? `alias *${p.key.source} has no anchor &${p.key.source} before it`
              : 'a mapping key must be a string or a number, not a collection',
          );
          failed = true;
          continue;
        }
        const name = p.key === null ? '' : String((key as { value: unknown }).value);
        if (seen.has(name)) {
          err(keyAt, `invalid YAML: duplicate key ${JSON.stringify(name)}`);
          failed = true;
        }
        seen.add(name);
      }
      if (failed) break;
    }
    onPath.add(n);
    stack.push({ n, exit: true, level: f.level });
    const cs = children(n);
    for (let i = cs.length - 1; i >= 0; i--) stack.push({ n: cs[i] as Node, exit: false, level: f.level + 1 });
  }
  return targets;
}

/** Alias → anchored node, per document, from checkTree (Alias.resolve walks the whole document each call). */
const aliasTargets = new WeakMap<Document, Map<Node, Node>>();

function isMergeKey(k: unknown): boolean {
  return isScalar(k) && (k.type === 'PLAIN' || k.type === undefined) && (typeof k.value === 'symbol' || k.value === '<<');
}

function isMergeSource(v: unknown, resolved: (n: unknown) => unknown): boolean {
  const one = (x: unknown) => isMap(resolved(x));
  if (isSeq(v)) return v.items.length > 0 && v.items.every(one);
  return one(v);
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

// Pair lookup per map, built once: positioning N errors in a map of N keys stays linear.
const keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, key: PathSegment): Pair | undefined {
  let idx = keyIndex.get(map);
  if (!idx) {
    idx = new Map();
    for (const p of map.items) {
      const k = isScalar(p.key) ? String(p.key.value) : p.key === null ? '' : undefined;
      if (k !== undefined && !idx.has(k)) idx.set(k, p);
    }
    keyIndex.set(map, idx);
  }
  return idx.get(String(key));
}

/** Follows one path segment: a map key or a sequence index, through aliases. */
function step(src: SourceDoc, node: unknown, seg: PathSegment): { pair?: Pair; node: unknown } | undefined {
  let n = node;
  if (isAlias(n)) n = aliasTargets.get(src.doc)?.get(n);
  if (isMap(n)) {
    const p = pairOf(n, seg);
    if (p) return { pair: p, node: p.value };
    // A key that came in through a merge key: point at the merge.
    const merge = n.items.find((it) => isMergeKey(it.key));
    return merge ? { pair: merge, node: merge.value } : undefined;
  }
  if (isSeq(n) && typeof seg === 'number') return { node: n.items[seg] };
  return undefined;
}

/**
 * Position of the node at `path`; for a missing path, the nearest existing ancestor. With `key`,
 * points at the map key instead of its value (what an "unknown field" error should point at).
 * Cost: the path's length (map keys are indexed once per map).
 */
export function positionOf(src: SourceDoc, path: readonly PathSegment[], key = false): Position | undefined {
  let node: unknown = src.doc.contents;
  let best: number | undefined = isNode(node) ? node.range?.[0] : undefined;
  for (let i = 0; i < path.length; i++) {
    const next = step(src, node, path[i] as PathSegment);
    if (!next) break;
    const last = i === path.length - 1;
    const keyNode = next.pair?.key;
    if (last && key && isNode(keyNode) && keyNode.range) {
      best = keyNode.range[0];
      break;
    }
    if (isNode(next.node) && next.node.range) best = next.node.range[0];
    else if (isNode(keyNode) && keyNode.range) best = keyNode.range[0];
    node = next.node;
  }
  return best === undefined ? undefined : src.lineCounter.linePos(best);
}

/** Converts a JSON pointer (Ajv's instancePath) into path segments, numbers for sequence indexes. */
export function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

export { isMap, isPair, isSeq };
