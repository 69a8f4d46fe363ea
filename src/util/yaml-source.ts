import { isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';

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

/** `spec.tenants[1].namespaces[0]` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** `FILE:LINE:COL: path: message` — the one-line error format used for every input error. */
export function formatError(file: string, pos: Position | undefined, path: readonly PathSegment[], message: string): string {
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  const field = path.length > 0 ? `${formatPath(path)}: ` : '';
  return `${where}: ${field}${message}`;
}

/**
 * Parses a multi-document YAML text strictly (YAML 1.2 core schema, duplicate keys are errors).
 * Returns the documents or the list of error lines; empty documents are skipped.
 */
export function parseYamlDocs(file: string, text: string): { docs: SourceDoc[]; errors: string[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const docs: SourceDoc[] = [];
  const errors: string[] = [];
  const list = Array.isArray(parsed) ? parsed : [];
  for (const doc of list) {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0]);
      errors.push(formatError(file, pos, [], `invalid YAML: ${firstLine(err.message)}`));
    }
    if (doc.errors.length > 0) continue;
    if (doc.contents === null) continue;
    docs.push({ file, doc, lineCounter, value: doc.toJS({ maxAliasCount: 100 }) });
  }
  return { docs, errors };
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Position of the node at `path`; for a missing path, the nearest existing ancestor. With `key`,
 * points at the map key instead of its value (what an "unknown field" error should point at).
 */
export function positionOf(src: SourceDoc, path: readonly PathSegment[], key = false): Position | undefined {
  if (key && path.length > 0) {
    const parent = src.doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
      if (pair && isNode(pair.key) && pair.key.range) return src.lineCounter.linePos(pair.key.range[0]);
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? src.doc.contents : src.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return src.lineCounter.linePos(node.range[0]);
  }
  return undefined;
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

export { isMap, isSeq };
