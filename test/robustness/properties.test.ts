/**
 * Property-based tests (fast-check) over the three parsers of user input: the spec loader, the
 * manifest reader and the `authz --request` parser. For any input: no exception other than the
 * input error type; every error line is one line starting `FILE:LINE:COL: `; bounded time (a
 * generous per-case bound: speed itself is measured by bench/fuzz.ts, not here).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSpec } from '../../src/api/load.ts';
import { parseRequest } from '../../src/authz/parse.ts';
import { manifestsFromText } from '../../src/manifests/read.ts';
import { InputError } from '../../src/util/errors.ts';
import { ROOT } from '../helpers/shared.ts';
import { aliasYaml, mutate, TOKENS, type AliasNode, type Mutation } from '../helpers/yaml-mutations.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const CASE_MS = 5_000;
const EXAMPLES = ['ossm2-basic', 'ossm2-tenants', 'ossm2-kafka', 'kourier'].map((n) =>
  readFileSync(join(ROOT, 'examples', `${n}.yaml`), 'utf8'),
);
const RENDERED = readFileSync(join(ROOT, 'examples', 'ossm2-basic.yaml'), 'utf8'); // manifests: a spec is a Kubernetes-shaped object too
const MANIFEST = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow, namespace: team-a, labels: &l {app: x}}
spec:
  selector: {matchLabels: *l}
  rules:
    - from: [{source: {namespaces: [team-a]}}]
      to: [{operation: {methods: [GET], paths: ["/x"]}}]
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: team-a}}
`;

/** The property: `fn` returns, or throws InputError whose every line is positioned in `file`. */
function holds(file: string, fn: () => unknown): boolean {
  const t0 = Date.now();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`not an input error: ${e instanceof Error ? e.stack : String(e)}`, { cause: e });
    const lines = e.message.split('\n');
    const prefix = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}:\\d+:\\d+: \\S`);
    for (const l of lines) if (!prefix.test(l)) throw new Error(`error line without ${file}:LINE:COL: ${JSON.stringify(l)}`, { cause: e });
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(e.message.replace(/\n/g, '')))
      throw new Error(`raw control character in ${JSON.stringify(e.message)}`, { cause: e });
  }
  const ms = Date.now() - t0;
  if (ms > CASE_MS) throw new Error(`took ${ms} ms`);
  return true;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), token: fc.nat({ max: TOKENS.length - 1 }) }),
  fc.record({ op: fc.constant('replace-char' as const), at: fc.nat(), code: fc.nat({ max: 0x2fff }) }),
  fc.record({ op: fc.constant('retype-value' as const), at: fc.nat(), token: fc.nat({ max: TOKENS.length - 1 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);
const mutations = fc.array(mutation, { minLength: 1, maxLength: 8 });

const aliasNode: fc.Arbitrary<AliasNode> = fc.letrec<{ node: AliasNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ s: fc.constantFrom('x', '1', 'yes', '"q"', 'null', 'ossm2') }),
    fc.record({ alias: fc.nat({ max: 3 }) }),
    fc.record({ anchor: fc.nat({ max: 3 }), node: tie('node') }),
    fc.record({ seq: fc.array(tie('node'), { maxLength: 4 }) }),
    fc.record({ map: fc.array(fc.tuple(fc.constantFrom('k', 'name', '<<', 'spec', 'mesh', 'tenants'), tie('node')), { maxLength: 4 }) }),
  ),
})).node;

// Text made of YAML's structural characters and a few hostile ones, so the parser's corners are reached.
const yamlish = fc.string({
  unit: fc.constantFrom(
    ...'{}[]:,-?&*!|>#%@`"\'\n \t~.0123456789abcxyz<'.split(''),
    '\u0000',
    '\u001b',
    'é',
    '\u2028',
    '---\n',
    '&a ',
    '*a',
    '!!binary ',
  ),
  maxLength: 200,
});
const HEAD = 'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: a}\n';

describe('spec loader: any text gives a spec or positioned input errors', () => {
  it('arbitrary text', () =>
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => holds('s.yaml', () => parseSpec('s.yaml', t))),
      { numRuns: RUNS },
    ));
  it('YAML-ish text', () =>
    fc.assert(
      fc.property(yamlish, (t) => holds('s.yaml', () => parseSpec('s.yaml', t))),
      { numRuns: RUNS },
    ));
  it('mutated examples', () =>
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), mutations, (i, ops) =>
        holds('s.yaml', () => parseSpec('s.yaml', mutate(EXAMPLES[i] as string, ops))),
      ),
      { numRuns: RUNS * 2 },
    ));
  it('alias structures as the spec, or as any value in it', () =>
    fc.assert(
      fc.property(aliasNode, fc.boolean(), (n, whole) =>
        holds('s.yaml', () => parseSpec('s.yaml', whole ? aliasYaml(n) : `${HEAD}spec: ${aliasYaml(n)}\n`)),
      ),
      { numRuns: RUNS },
    ));
  it('valid examples still load (the property is not satisfied by refusing everything)', () => {
    for (const e of EXAMPLES) assert.ok(parseSpec('s.yaml', e).spec);
  });
});

describe('manifest reader: any text gives objects or positioned input errors', () => {
  it('arbitrary text', () =>
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => holds('m.yaml', () => manifestsFromText('m.yaml', t))),
      { numRuns: RUNS },
    ));
  it('YAML-ish text', () =>
    fc.assert(
      fc.property(yamlish, (t) => holds('m.yaml', () => manifestsFromText('m.yaml', t))),
      { numRuns: RUNS },
    ));
  it('mutated manifests', () =>
    fc.assert(
      fc.property(fc.constantFrom(MANIFEST, RENDERED), mutations, (m, ops) =>
        holds('m.yaml', () => manifestsFromText('m.yaml', mutate(m, ops))),
      ),
      { numRuns: RUNS * 2 },
    ));
  it('alias structures', () =>
    fc.assert(
      fc.property(aliasNode, (n) =>
        holds('m.yaml', () => manifestsFromText('m.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: ${aliasYaml(n)}\n`)),
      ),
      { numRuns: RUNS },
    ));
  it('the valid manifest reads back', () => assert.equal(manifestsFromText('m.yaml', MANIFEST).length, 2));
});

const request = fc.record(
  {
    source: fc.record(
      {
        namespace: fc.oneof(fc.string(), fc.integer()),
        serviceAccount: fc.string(),
        principal: fc.string(),
        sidecar: fc.oneof(fc.boolean(), fc.string()),
        ip: fc.string(),
      },
      { requiredKeys: [] },
    ),
    destination: fc.record(
      {
        namespace: fc.string(),
        port: fc.oneof(fc.integer(), fc.double(), fc.string()),
        labels: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.dictionary(fc.string(), fc.jsonValue())),
        protocol: fc.constantFrom('http', 'tcp', 'grpc', 'x', 1),
        excludedPorts: fc.array(fc.oneof(fc.integer(), fc.string())),
        gatewayListener: fc.constantFrom('SIMPLE', 'nope'),
        servicePort: fc.integer(),
        bogus: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
    method: fc.string(),
    path: fc.oneof(fc.string(), fc.integer()),
    headers: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.jsonValue()),
    jwtClaims: fc.jsonValue(),
    transport: fc.constantFrom('mtls', 'plaintext', 'x'),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

describe('authz --request parser: any text gives a request or positioned input errors', () => {
  it('arbitrary text', () =>
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => holds('--request', () => parseRequest(t))),
      { numRuns: RUNS },
    ));
  it('arbitrary JSON', () =>
    fc.assert(
      fc.property(fc.json(), (t) => holds('--request', () => parseRequest(t))),
      { numRuns: RUNS },
    ));
  it('request-shaped JSON with wrong types and unknown fields, pretty-printed or not', () =>
    fc.assert(
      fc.property(request, fc.boolean(), (r, pretty) =>
        holds('--request', () => parseRequest(JSON.stringify(r, null, pretty ? 2 : undefined))),
      ),
      { numRuns: RUNS * 2 },
    ));
  it('mutated valid requests', () => {
    const valid = JSON.stringify(
      { source: { namespace: 'a', serviceAccount: 'd' }, destination: { namespace: 'b', port: 8080 }, method: 'GET', path: '/' },
      null,
      2,
    );
    assert.ok(parseRequest(valid));
    fc.assert(
      fc.property(mutations, (ops) => holds('--request', () => parseRequest(mutate(valid, ops)))),
      { numRuns: RUNS },
    );
  });
});
