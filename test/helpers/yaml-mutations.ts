/**
 * Hostile YAML for the property tests (test/robustness/properties.test.ts) and bench/fuzz.ts: the
 * mutations of issue 9 (keys deleted, retyped, duplicated; unicode, long strings, big arrays, tags,
 * directives, anchors and aliases, deep nesting, raw garbage) as pure functions of a list of
 * operations, so fast-check can shrink them and the bench can draw them from a seeded PRNG.
 */

export const TOKENS: readonly string[] = [
  '&a ',
  '*a',
  '&b ',
  '*b',
  '<<: *a',
  '<<: 1',
  '<<: [*a, *b]',
  '!!binary ',
  '!!set ',
  '!foo ',
  '!<tag:x> ',
  '%YAML 1.1\n',
  '%YAML 1.2\n',
  '%TAG ! tag:x,2000:\n',
  '---\n',
  '...\n',
  '? [a]\n: 1\n',
  '? {a: 1}\n: 2\n',
  '{',
  '[',
  ']',
  '}',
  ':',
  ': ',
  '- ',
  '\n',
  '\n  ',
  '"',
  "'",
  '\t',
  '\u001b[31m',
  '\r',
  '\u2028',
  'é',
  '😀',
  '\u0000',
  '\uFEFF',
  '\uFFFF',
  'yes',
  'off',
  '0x1F',
  '0o17',
  '1e999',
  '-.inf',
  '.nan',
  '~',
  'null',
  '|\n  x\n',
  '>-\n  y\n',
  '# c\n',
  '&x [*x]',
  'a'.repeat(300),
  '9'.repeat(25),
  `[${'1,'.repeat(500)}1]`,
  '['.repeat(200),
  '{a: '.repeat(150),
  '- '.repeat(120),
  'spec:',
  'metadata:',
  'name: x',
  'tenants: *a',
];

export type Mutation =
  | { op: 'delete-line'; at: number }
  | { op: 'duplicate-line'; at: number }
  | { op: 'insert'; at: number; token: number }
  | { op: 'replace-char'; at: number; code: number }
  | { op: 'retype-value'; at: number; token: number }
  | { op: 'truncate'; at: number };

/** Applies mutations in order; positions are taken modulo the current length. */
export function mutate(text: string, ops: readonly Mutation[]): string {
  let t = text;
  for (const m of ops) {
    const lines = t.split('\n');
    const li = lines.length ? m.at % lines.length : 0;
    const ci = t.length ? m.at % (t.length + 1) : 0;
    switch (m.op) {
      case 'delete-line':
        lines.splice(li, 1);
        t = lines.join('\n');
        break;
      case 'duplicate-line':
        lines.splice(li, 0, lines[li] ?? '');
        t = lines.join('\n');
        break;
      case 'insert':
        t = t.slice(0, ci) + (TOKENS[m.token % TOKENS.length] as string) + t.slice(ci);
        break;
      case 'replace-char':
        t = t.slice(0, ci) + String.fromCharCode(m.code % 0x3000) + t.slice(ci + 1);
        break;
      case 'retype-value': {
        const line = lines[li] ?? '';
        const colon = line.indexOf(': ');
        if (colon >= 0) lines[li] = `${line.slice(0, colon + 2)}${TOKENS[m.token % TOKENS.length] as string}`;
        t = lines.join('\n');
        break;
      }
      case 'truncate':
        t = t.slice(0, ci);
        break;
    }
  }
  return t;
}

export type AliasNode =
  { s: string } | { alias: number } | { anchor: number; node: AliasNode } | { seq: AliasNode[] } | { map: Array<[string, AliasNode]> };

/** Flow YAML of an alias structure: anchors and aliases anywhere, before or after, recursive or not. */
export function aliasYaml(n: AliasNode): string {
  if ('s' in n) return n.s;
  if ('alias' in n) return `*a${n.alias}`;
  if ('anchor' in n) return `&a${n.anchor} ${aliasYaml(n.node)}`;
  if ('seq' in n) return `[${n.seq.map(aliasYaml).join(', ')}]`;
  return `{${n.map.map(([k, v]) => `${k}: ${aliasYaml(v)}`).join(', ')}}`;
}

/** A small seeded PRNG (mulberry32) for the bench. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPS: Array<Mutation['op']> = ['delete-line', 'duplicate-line', 'insert', 'replace-char', 'retype-value', 'truncate'];

/** Random mutations (the bench's counterpart of the fast-check arbitrary). */
export function randomMutations(rand: () => number, max = 6): Mutation[] {
  const n = 1 + Math.floor(rand() * max);
  const out: Mutation[] = [];
  for (let i = 0; i < n; i++) {
    const op = OPS[Math.floor(rand() * (OPS.length - 0.01))] as Mutation['op'];
    // truncation is rarer: it makes most inputs trivially short
    if (op === 'truncate' && rand() < 0.7) continue;
    const at = Math.floor(rand() * 1e6);
    const token = Math.floor(rand() * TOKENS.length);
    out.push(
      op === 'insert' || op === 'retype-value'
        ? { op, at, token }
        : op === 'replace-char'
          ? { op, at, code: Math.floor(rand() * 0x3000) }
          : { op, at },
    );
  }
  return out;
}

/** A random alias structure (the bench's counterpart of the fast-check arbitrary). */
export function randomAliasNode(rand: () => number, depth = 0): AliasNode {
  const r = rand();
  if (depth > 4 || r < 0.25) return { s: ['x', '1', 'yes', '"q"', 'null'][Math.floor(rand() * 5)] as string };
  if (r < 0.45) return { alias: Math.floor(rand() * 4) };
  if (r < 0.6) return { anchor: Math.floor(rand() * 4), node: randomAliasNode(rand, depth + 1) };
  if (r < 0.8) return { seq: Array.from({ length: Math.floor(rand() * 4) }, () => randomAliasNode(rand, depth + 1)) };
  return {
    map: Array.from(
      { length: Math.floor(rand() * 4) },
      (_, i) =>
        [
          (['k', 'name', '<<', 'spec'][Math.floor(rand() * 4)] as string) + (rand() < 0.5 ? '' : String(i)),
          randomAliasNode(rand, depth + 1),
        ] as [string, AliasNode],
    ),
  };
}
