/**
 * Issue 9, "Defects found": one test per defect, each through the CLI as the user hit it (exit code,
 * one positioned line on stderr, nothing half written).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseSpec } from '../../src/api/load.ts';
import { InputErrors } from '../../src/util/errors.ts';
import { ROOT } from '../helpers/shared.ts';

const BIN = join(ROOT, 'bin/serverless-mesh.js');
const run = (args: string[], input?: string, timeout = 60_000) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, input, timeout, maxBuffer: 256 * 1024 * 1024 });
const tmp = () => mkdtempSync(join(tmpdir(), 'sm-robust-'));
const file = (name: string, text: string) => {
  const p = join(tmp(), name);
  writeFileSync(p, text);
  return p;
};
const HEAD = 'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\n';
const POSITIONED = /^\S+:\d+:\d+: \S/;

/** Exit 2, every stderr line `FILE:LINE:COL: …`, no stack trace, nothing on stdout. */
function assertInputError(res: ReturnType<typeof run>, what: RegExp, lines?: number): string[] {
  assert.equal(res.status, 2, `exit ${res.status}: ${res.stderr}`);
  assert.equal(res.stdout, '');
  const errs = res.stderr.trimEnd().split('\n');
  for (const l of errs) assert.match(l, POSITIONED, `not positioned: ${l}`);
  assert.doesNotMatch(res.stderr, /\n\s+at |Error:|Warning:/);
  assert.match(res.stderr, what);
  if (lines !== undefined) assert.equal(errs.length, lines, res.stderr);
  return errs;
}

const ksvc = (extra = '') =>
  `apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello\n  namespace: team-a\nspec:\n  template:\n${extra}`;

describe('YAML features: a clean FILE:LINE:COL error, exit 2, in every command that reads YAML', () => {
  const aliasFirst = `${HEAD}metadata: *x\n`;
  it('an alias before its anchor (render)', () => {
    const f = file('s.yaml', aliasFirst);
    assertInputError(run(['render', '-f', f]), new RegExp(`^${f}:3:11: alias \\*x has no anchor &x before it\n$`), 1);
  });
  it('an alias before its anchor (mesh-ify, verify -m, authz -m)', () => {
    const f = file('m.yaml', `${ksvc('    metadata: *x\n')}`);
    assertInputError(run(['mesh-ify', f]), /alias \*x has no anchor/, 1);
    assertInputError(run(['verify', '-m', f]), /alias \*x has no anchor/, 1);
    const req = '{"source":{"namespace":"a","serviceAccount":"d"},"destination":{"namespace":"b","port":8080}}';
    assertInputError(run(['authz', '-m', f, '--request', req]), /alias \*x has no anchor/, 1);
  });
  it('one anchor used 120 times is a legitimate spec and renders', () => {
    const keys = Array.from({ length: 120 }, (_, i) => `    k${i}: *v\n`).join('');
    const f = file('s.yaml', `${HEAD}metadata:\n  name: a\n  labels: {team: &v alpha}\n  annotations:\n${keys}`);
    const res = run(['render', '-f', f]);
    assert.equal(res.status, 0, res.stderr);
  });
  it('%YAML 1.1 with a merge key `<<: 1` is refused at the directive (YAML 1.2 only)', () => {
    const f = file('s.yaml', `%YAML 1.1\n---\n${HEAD}metadata: {name: a}\nspec:\n  <<: 1\n`);
    assertInputError(run(['render', '-f', f]), /:1:1: %YAML 1\.1 is not supported/, 1);
  });
  it('%YAML 1.1 would turn `yes`/`off` into booleans: refused, not silently reinterpreted', () => {
    const f = file('s.yaml', `%YAML 1.1\n---\n${HEAD}metadata: {name: a}\nspec:\n  tls: {generate: off}\n`);
    assertInputError(run(['render', '-f', f]), /%YAML 1\.1 is not supported/, 1);
  });
  it('a merge key whose value is not a mapping (YAML 1.2) is an error, not a crash', () => {
    const f = file('s.yaml', `${HEAD}metadata: {name: a}\nspec:\n  <<: 1\n`);
    assertInputError(run(['render', '-f', f]), /:5:3: merge key << needs a mapping/, 1);
  });
  it('a recursive alias is an error', () => {
    assert.throws(
      () => parseSpec('s.yaml', `${HEAD}metadata: &m {name: a, self: *m}\n`),
      (e: unknown) => e instanceof InputErrors && /recursive alias/.test(e.message),
    );
  });
  it('a billion laughs stops at the expansion bound', () => {
    let y = `${HEAD}metadata: {name: a}\nx0: &a0 [l, l, l, l, l, l, l, l, l, l]\n`;
    for (let i = 1; i < 12; i++)
      y += `x${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const f = file('s.yaml', y);
    assertInputError(run(['render', '-f', f]), /more than 2000000 nodes once aliases are expanded/, 1);
  });
});

describe('output into a closed pipe', () => {
  it('render | head -1 exits quietly (no EPIPE stack trace)', () => {
    const tenants = Array.from({ length: 200 }, (_, i) => `    - {name: t${i}, namespaces: [t${i}-a, t${i}-b]}\n`).join('');
    const f = file('s.yaml', `${HEAD}metadata: {name: a}\nspec:\n  tenants:\n${tenants}`);
    const res = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" render -f "${f}" 2>"${f}.err" | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`],
      { encoding: 'utf8' },
    );
    assert.equal(res.stdout.trim(), '0');
    assert.equal(readFileSync(`${f}.err`, 'utf8'), '');
  });
});

describe('unbounded input', () => {
  it('render -f /dev/zero stops at the size cap with one clear line', () => {
    const res = run(['render', '-f', '/dev/zero'], undefined, 30_000);
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.stderr, '/dev/zero:1:1: spec file larger than 16 MiB: refusing to read more\n');
  });
  it('stdin is capped too', () => {
    const res = run(['render', '-f', '-'], 'a'.repeat(17 * 1024 * 1024));
    assert.equal(res.status, 2);
    assert.match(res.stderr, /^<stdin>:1:1: spec file larger than 16 MiB/);
  });
  it('more than 10,000 documents is an error', () => {
    const f = file('m.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n'.repeat(10_001));
    assertInputError(run(['verify', '-m', f]), /more than 10000 YAML documents/, 1);
  });
});

describe('error positioning is linear', () => {
  it('50,000 unknown keys: 100 positioned lines and a count, well within 15 s (was 40 s)', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `  k${i}: 1\n`).join('');
    const f = file('s.yaml', `${HEAD}metadata: {name: a}\nspec:\n${keys}`);
    const t0 = Date.now();
    const res = run(['render', '-f', f], undefined, 15_000);
    assert.ok(Date.now() - t0 < 15_000, 'took longer than 15 s');
    const lines = assertInputError(res, /unknown field "k0"/, 101);
    assert.match(lines[0]!, /:5:3: spec\.k0: unknown field "k0"$/);
    assert.match(lines[100]!, /:105:3: … and 49900 more errors \(the first 100 are shown\)$/);
  });
});

describe('output paths', () => {
  it('render --output-dir FILE, --certs-dir FILE, certs --output-dir FILE: one line, exit 2', () => {
    const f = file('exists', 'x');
    for (const args of [
      ['render', '-f', 'examples/ossm2-basic.yaml', '--output-dir', f],
      ['render', '-f', 'examples/ossm2-basic.yaml', '--certs-dir', f],
      ['certs', '--domain', 'apps.example.com', '--output-dir', f],
    ]) {
      const res = run(args);
      assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, new RegExp(`^--(output|certs)-dir ${f}: exists and is not a directory\\n$`));
    }
  });
  it('certs --output-dir /proc/x fails at once instead of spinning', () => {
    const res = run(['certs', '--domain', 'apps.example.com', '--output-dir', '/proc/x/y'], undefined, 20_000);
    assert.equal(res.signal, null, 'killed by the timeout: it spun');
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /^--output-dir \/proc\/x\/y: cannot create \/proc\/x \(ENOENT\)\n$/);
  });
  it('render --output-dir DIR is the exact image: stale files of our earlier render go, others stay; Secret 0600', () => {
    const dir = tmp();
    const certs = tmp();
    const many = run(['render', '-f', 'examples/ossm2-tenants.yaml', '--output-dir', dir, '--certs-dir', certs]);
    assert.equal(many.status, 0, many.stderr);
    writeFileSync(join(dir, 'README.md'), 'mine');
    const secret = readdirSync(dir).find((f) => f.includes('-secret-'))!;
    chmodSync(join(dir, secret), 0o644); // an old render, or a careless copy
    const same = run(['render', '-f', 'examples/ossm2-tenants.yaml', '--output-dir', dir, '--certs-dir', certs]);
    assert.equal(same.status, 0, same.stderr);
    assert.equal(statSync(join(dir, secret)).mode & 0o777, 0o600);
    const spec = readFileSync(join(ROOT, 'examples/ossm2-tenants.yaml'), 'utf8').replace(/\n {2}tenants:[\s\S]*$/, '\n');
    const few = run(['render', '-f', '-', '--output-dir', dir, '--certs-dir', certs], spec);
    assert.equal(few.status, 0, few.stderr);
    const expected = run(['render', '-f', '-', '--certs-dir', certs], spec);
    const objects = parseAllDocuments(expected.stdout).length;
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(objects < 54);
    assert.equal(files.length, objects);
    assert.equal(files.filter((f) => f.includes('authorizationpolicy')).length, 0);
    assert.ok(existsSync(join(dir, 'README.md')), 'a file we did not write was removed');
    const secretNow = files.find((f) => f.includes('-secret-'))!;
    assert.equal(statSync(join(dir, secretNow)).mode & 0o777, 0o600);
    assert.match(few.stderr, /removed \d+ files of an earlier render/);
  });
});

describe('values are range-checked', () => {
  const spec = (s: string) => file('s.yaml', `${HEAD}metadata: {name: a}\nspec:\n${s}`);
  it('Kafka ports 0 and 99999 in bootstrapServers', () => {
    const f = spec('  kafka: {bootstrapServers: ["k:0", "k:99999"]}\n');
    const lines = assertInputError(run(['render', '-f', f]), /out of range 1-65535/, 2);
    assert.match(lines[0]!, /:5:30: spec\.kafka\.bootstrapServers\[0\]: port 0 of "k:0" is out of range 1-65535$/);
  });
  it('numPartitions of 20 digits', () => {
    assertInputError(
      run(['render', '-f', spec('  kafka: {bootstrapServers: [k:9092], numPartitions: 12345678901234567890}\n')]),
      /spec\.kafka\.numPartitions: must be <= 2147483647/,
      1,
    );
  });
  it('a domain label longer than 63 characters; a CN longer than X.509 allows', () => {
    assertInputError(
      run(['render', '-f', spec(`  domain: ${'a'.repeat(64)}.example.com\n`)]),
      /spec\.domain: DNS label "a{20}…" is 64 characters long/,
      1,
    );
    const long = `${'a'.repeat(60)}.bb.cc`;
    assertInputError(run(['render', '-f', spec(`  domain: ${long}\n  tls: {generate: true}\n`)]), /at most 62 \(X\.509: 64\)/, 1);
  });
  it('certs --days 99999999 (notAfter=Bad time value)', () => {
    const res = run(['certs', '--domain', 'apps.example.com', '--output-dir', tmp(), '--days', '99999999']);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /--days.*expected an integer from 1 to 3650/);
  });
  it('service: empty image, image with spaces, duplicate or invalid --env names', () => {
    const base = ['service', '--name', 'hello', '--namespace', 'team-a'];
    for (const extra of [
      ['--image', ''],
      ['--image', 'quay.io/a b'],
      ['--image', 'x', '--env', 'A=1', '--env', 'A=2'],
      ['--image', 'x', '--env', '1A=1'],
      ['--image', 'x', '--env', 'A B=1'],
    ]) {
      const res = run([...base, ...extra]);
      assert.equal(res.status, 2, `${extra.join(' ')}: ${res.stdout}`);
      assert.equal(res.stdout, '');
    }
  });
  it('authz --request: port 99999999 and unknown fields', () => {
    const pol = file('p.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n');
    const req = (d: string) => `{"source":{"namespace":"a","serviceAccount":"d"},"destination":{"namespace":"b",${d}}}`;
    let res = run(['authz', '-m', pol, '--request', req('"port":99999999')]);
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /^--request:1:\d+: destination\.port must be a port number from 1 to 65535\n$/);
    res = run(['authz', '-m', pol, '--request', req('"port":80,"bogus":1')]);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /^--request:1:\d+: unknown field destination\."bogus"/);
  });
  it('verify -m of an empty file is an error, not "no surprises"', () => {
    const f = file('empty.yaml', '');
    assertInputError(run(['verify', '-m', f]), /no Kubernetes objects found/, 1);
  });
});

describe('no silent data loss', () => {
  it('mesh-ify expands an aliased template.metadata instead of replacing it (name and labels kept)', () => {
    const body =
      'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: &meta\n  name: hello\n  namespace: team-a\n  labels: {app: hello}\nspec:\n  template:\n    metadata: *meta\n    spec: {containers: [{image: x}]}\n';
    const res = run(['mesh-ify', file('k.yaml', body)]);
    assert.equal(res.status, 0, res.stderr);
    const doc = parseAllDocuments(res.stdout)[0]!.toJS();
    const meta = doc.spec.template.metadata;
    assert.equal(meta.name, 'hello');
    assert.equal(meta.labels.app, 'hello');
    assert.equal(meta.labels['sidecar.istio.io/inject'], 'true');
    assert.equal(doc.metadata.labels['sidecar.istio.io/inject'], undefined, 'the anchored map changed too');
    assert.match(res.stderr, /expanded alias \*meta at spec\.template\.metadata/);
  });
  it('mesh-ify refuses a wrong-typed spec or labels instead of replacing it (-i leaves the file as it was)', () => {
    for (const body of [ksvc('').replace('spec:\n  template:\n', 'spec: not-a-map\n'), ksvc('    metadata:\n      labels: [a, b]\n')]) {
      const f = file('k.yaml', body);
      const res = run(['mesh-ify', '-i', f]);
      assertInputError(res, /expected a mapping, got (a list|string); not changed/, 1);
      assert.equal(readFileSync(f, 'utf8'), body);
    }
  });
  it('mesh-ify leaves documents it does not change byte for byte', () => {
    const other = '# a comment\napiVersion: v1\nkind:   ConfigMap   # spaced\nmetadata: {name: x,  namespace: "y"}\ndata:\n  a: \'1\'\n';
    const f = file('k.yaml', `${other}---\n${ksvc('    spec: {containers: [{image: x}]}\n')}`);
    const res = run(['mesh-ify', f]);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.stdout.startsWith(`${other}---\n`), res.stdout);
  });
  it('--certs-dir refuses a certificate for another domain, and files that are not PEM', () => {
    const certs = tmp();
    const gen = run(['certs', '--domain', 'other.example.com', '--output-dir', certs]);
    assert.equal(gen.status, 0, gen.stderr);
    let res = run(['render', '-f', 'examples/ossm2-basic.yaml', '--certs-dir', certs]);
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /wildcard\.crt is for \*\.other\.example\.com, other\.example\.com, not \*\.apps\.openshift\.example\.com/);
    const junk = tmp();
    writeFileSync(join(junk, 'wildcard.crt'), 'hello');
    writeFileSync(join(junk, 'wildcard.key'), 'world');
    res = run(['render', '-f', 'examples/ossm2-basic.yaml', '--certs-dir', junk]);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /wildcard\.crt is not a PEM certificate\n$/);
  });
  it('certs does not overwrite an existing root.key without --overwrite', () => {
    const dir = tmp();
    assert.equal(run(['certs', '--domain', 'apps.example.com', '--output-dir', dir]).status, 0);
    const key = readFileSync(join(dir, 'root.key'), 'utf8');
    const again = run(['certs', '--domain', 'apps.example.com', '--output-dir', dir]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /root\.crt, root\.key, wildcard\.crt, wildcard\.key already exist; pass --overwrite/);
    assert.equal(readFileSync(join(dir, 'root.key'), 'utf8'), key);
    assert.equal(run(['certs', '--domain', 'apps.example.com', '--output-dir', dir, '--overwrite']).status, 0);
    assert.notEqual(readFileSync(join(dir, 'root.key'), 'utf8'), key);
    assert.equal(statSync(join(dir, 'root.key')).mode & 0o777, 0o600);
  });
});

describe('error hygiene', () => {
  const spec = (s: string) => file('s.yaml', `${HEAD}metadata: {name: a}\nspec:\n${s}`);
  it('a key with a newline gives one line; ANSI escapes do not reach the terminal raw', () => {
    const res = run(['render', '-f', spec('  "a\\nb\\u001b[31m": 1\n')]);
    assertInputError(res, /spec\["a\\nb\\u001b\[31m"\]: unknown field/, 1);
    assert.ok(!res.stderr.includes('\u001b'));
  });
  it('!!binary gives one error, not one per byte; unknown tags are refused', () => {
    assertInputError(run(['render', '-f', spec('  x: !!binary aGVsbG8gd29ybGQ=\n')]), /:5:15: unsupported tag !!binary/, 1);
    assertInputError(run(['render', '-f', spec('  ingress: !foo istio\n')]), /:5:\d+: unsupported tag !foo/, 1);
  });
  it('a collection key: one positioned error, no Node warning', () => {
    assertInputError(
      run(['render', '-f', spec('  ? [a]\n  : 1\n')]),
      /:5:5: a mapping key must be a string or a number, not a collection/,
      1,
    );
  });
  it('an empty file and the flavour refusal are positioned', () => {
    const empty = file('e.yaml', '');
    assertInputError(
      run(['render', '-f', empty]),
      new RegExp(`^${empty}:1:1: expected exactly one ServerlessMesh document, found 0\n$`),
      1,
    );
    assertInputError(
      run(['render', '-f', spec('  mesh: {flavor: ossm3}\n  ingress: kourier\n')]),
      /:6:12: spec\.ingress: ingress: kourier is supported with flavor ossm2 only/,
      1,
    );
  });
});
