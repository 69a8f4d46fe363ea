import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsyaml from 'js-yaml';
import { parse, parseAllDocuments } from 'yaml';
import { render } from '../../src/render/index.ts';
import { toYaml } from '../../src/render/serialize.ts';
import { emitYaml } from '../../src/render/yaml-emit.ts';
import { example, EXAMPLES, TEST_TLS } from '../helpers/shared.ts';

/** Read back under YAML 1.2 (yaml, js-yaml) and 1.1 (what kubectl's go-yaml resolves): all equal the input. */
function roundTrips(value: unknown): void {
  const text = emitYaml(value);
  assert.deepEqual(parse(text), value, text);
  assert.deepEqual(parse(text, { version: '1.1' }), value, `YAML 1.1: ${text}`);
  assert.deepEqual(jsyaml.load(text), value, `js-yaml: ${text}`);
}

const TRICKY = [
  '',
  ' ',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'true',
  'False',
  'null',
  '~',
  '0777',
  '1e3',
  '1.20',
  '0x1F',
  '1:20',
  '.5',
  '-',
  '- x',
  '*',
  '*.ns',
  '&a',
  '!tag',
  '%x',
  '@x',
  '`x',
  '|',
  '>',
  '#c',
  'a #b',
  'a: b',
  'a:b',
  '[x]',
  '{x}',
  'x,y',
  'request.headers[Kn-Namespace]',
  '"q"',
  "'s'",
  'line\nbreak',
  'tab\there',
  'trailing ',
  ' leading',
  'ünï',
  '2026-01-01',
  '.inf',
  '-.inf',
  '.nan',
  '=',
  '?',
  '?x',
  'x?',
  '/',
  '/a/*',
  'cluster.local/ns/a/sa/b',
  'nvidia.com/gpu',
  '35s',
  '8022',
];

describe('YAML emitter', () => {
  it('every tricky string, as value and as key, reads back as the same string', () => {
    for (const s of TRICKY) {
      roundTrips({ k: s });
      roundTrips({ [s]: 'v' });
      roundTrips([s]);
    }
  });

  it('numbers, booleans, null, empty and nested collections', () => {
    roundTrips({ a: 1, b: -2.5, c: 0, d: true, e: false, f: null, g: [], h: {}, i: [[1, [2]], { x: [{}] }], j: [{ a: 1, b: [] }] });
    roundTrips([]);
    roundTrips({});
  });

  it('every rendered example reads back equal, as multi-document YAML', () => {
    for (const name of EXAMPLES) {
      const objects = render(example(name), { tls: TEST_TLS });
      const back = parseAllDocuments(toYaml(objects)).map((d) => d.toJS());
      assert.deepEqual(back, objects, name);
    }
  });

  it('refuses values YAML cannot carry faithfully', () => {
    assert.throws(() => emitYaml({ x: Number.NaN }));
    assert.throws(() => emitYaml({ x: () => 1 }));
  });
});
