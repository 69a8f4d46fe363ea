/**
 * Manifest text → objects with their origin (file, document, line), pure. Values come from js-yaml
 * per document (~10× faster than a full CST parse); the `yaml` CST of a document is built only when
 * a finding needs a line and column inside it.
 */
import jsyaml from 'js-yaml';
import { LineCounter, parseDocument } from 'yaml';
import type { KubeObject } from '../util/kube.ts';
import { positionOf, type PathSegment, type SourceDoc } from '../util/yaml-source.ts';
import type { Locator } from './engine.ts';
import { isObj } from './util.ts';

interface Origin {
  file: string;
  /** 1-based line where the document's text starts. */
  startLine: number;
  text: string;
  /** Path of the object inside the document (List items). */
  prefix: PathSegment[];
  doc?: SourceDoc;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export class ManifestSet {
  readonly objects: KubeObject[] = [];
  readonly errors: string[] = [];
  private readonly origins = new WeakMap<KubeObject, Origin>();

  /** Adds every object of one file's text (multi-document YAML or JSON; `kind: List` flattened). */
  add(file: string, text: string): void {
    const trimmed = text.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        this.collect(JSON.parse(text) as unknown, { file, startLine: 1, text, prefix: [] });
        return;
      } catch {
        // not JSON after all (or invalid JSON): the YAML parser reports it with a position
      }
    }
    // Documents are split at `---` lines (a separator at column 0 cannot be inside a block scalar of a
    // mapping document) and `...` end markers; offsets and line numbers are tracked without splitting lines.
    const sep = /^(---|\.\.\.)([ \t]+[^\n]*)?\r?$/gm;
    let from = 0;
    let line = 1;
    let m: RegExpExecArray | null;
    while ((m = sep.exec(text))) {
      this.parseChunk(file, text.slice(from, m.index), line);
      line += countLines(text, from, m.index);
      // `--- {inline: doc}`: the rest of the separator line starts the next document
      const rest = m[1] === '---' ? (m[2] ?? '').trim() : '';
      if (rest !== '' && !rest.startsWith('#')) from = m.index + 3;
      else {
        from = m.index + m[0].length;
        if (text[from] === '\n') {
          from++;
          line++;
        }
      }
    }
    this.parseChunk(file, text.slice(from), line);
  }

  private parseChunk(file: string, chunk: string, startLine: number): void {
    if (/\S/.test(chunk)) this.parseDoc(file, chunk, startLine);
  }

  private parseDoc(file: string, chunk: string, startLine: number): void {
    let value: unknown;
    try {
      value = jsyaml.load(chunk, { schema: jsyaml.CORE_SCHEMA, filename: file });
    } catch (e) {
      const mark = (e as { mark?: { line: number; column: number } }).mark;
      const reason = (e as { reason?: string }).reason ?? (e as Error).message;
      this.errors.push(`${file}:${mark ? `${startLine + mark.line}:${mark.column + 1}` : startLine}: invalid YAML: ${reason}`);
      return;
    }
    this.collect(value, { file, startLine, text: chunk, prefix: [] });
  }

  private collect(v: unknown, origin: Origin): void {
    if (Array.isArray(v)) {
      v.forEach((x, i) => this.collect(x, { ...origin, prefix: [...origin.prefix, i] }));
      return;
    }
    if (!isObj(v)) return;
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      v.items.forEach((x, i) => this.collect(x, { ...origin, prefix: [...origin.prefix, 'items', i] }));
      return;
    }
    if (typeof v.apiVersion === 'string' && typeof v.kind === 'string' && isObj(v.metadata)) {
      const o = v as KubeObject;
      this.objects.push(o);
      this.origins.set(o, origin);
    }
  }

  /** Objects added without text (rendered from a spec): located by file only. */
  addObjects(objects: readonly KubeObject[], file: string): void {
    for (const o of objects) {
      this.objects.push(o);
      this.origins.set(o, { file, startLine: 0, text: '', prefix: [] });
    }
  }

  readonly locate: Locator = (object, path) => {
    const o = this.origins.get(object);
    if (!o) return undefined;
    if (o.startLine === 0) return { file: o.file };
    if (!o.doc) {
      const lineCounter = new LineCounter();
      const doc = parseDocument(o.text, { lineCounter });
      o.doc = { file: o.file, doc, lineCounter, value: undefined };
    }
    const pos = positionOf(o.doc, [...o.prefix, ...path]);
    return { file: o.file, line: pos ? o.startLine + pos.line - 1 : o.startLine, column: pos?.col };
  };
}
