/**
 * Issue 9, "Behave like the tools users already know": `-f -` is stdin everywhere, `-o` is the
 * output format in every command, one ExitCode enum (0 ok, 1 differences/findings, 2 bad input or
 * usage, 3 cluster problems), apply's waits announced and shown on a non-terminal stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { parseAllDocuments } from 'yaml';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { runSteps } from '../../src/cluster/progress.ts';
import { ClusterError, InputError, InputErrors, UserError } from '../../src/util/errors.ts';
import { ROOT } from '../helpers/shared.ts';
import { assertValidSarif } from '../helpers/sarif.ts';

const BIN = join(ROOT, 'bin/serverless-mesh.js');
const run = (args: string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, input, timeout: 60_000, env: { ...process.env, ...env } });
const tmp = () => mkdtempSync(join(tmpdir(), 'sm-conv-'));
const spec = (name: string) => readFileSync(join(ROOT, 'examples', `${name}.yaml`), 'utf8');
const REQUEST = '{"source":{"namespace":"a","serviceAccount":"default"},"destination":{"namespace":"b","port":8080}}';

describe('exit codes: one enum, typed errors mapped by the CLI', () => {
  it('the enum', () => {
    assert.deepEqual([ExitCode.Ok, ExitCode.Differences, ExitCode.BadInput, ExitCode.Cluster], [0, 1, 2, 3]);
  });
  it('maps error classes, not numbers chosen in library code', () => {
    assert.equal(exitCodeFor(new InputError('x')), ExitCode.BadInput);
    assert.equal(exitCodeFor(new InputErrors(['a', 'b'])), ExitCode.BadInput);
    assert.equal(exitCodeFor(new ClusterError('x')), ExitCode.Cluster);
    assert.equal(exitCodeFor(new UserError('legacy', 2)), ExitCode.BadInput);
    assert.equal(exitCodeFor(new UserError('legacy', 1)), ExitCode.Cluster);
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x')), ExitCode.BadInput);
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '')), ExitCode.Ok);
    assert.equal(exitCodeFor(new TypeError('bug')), ExitCode.Internal);
  });
  it('diff exits 3, not 1, when the cluster is unreachable; apply too', () => {
    const kc = join(tmp(), 'kubeconfig');
    writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters: [{name: dead, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\n',
    );
    for (const cmd of ['diff', 'apply']) {
      const res = run([cmd, '-f', 'examples/ossm2-basic.yaml', '--kubeconfig', kc]);
      assert.equal(res.status, ExitCode.Cluster, `${cmd}: ${res.stderr}`);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /^cluster https:\/\/127\.0\.0\.1:9 unreachable/m);
    }
  });
  it('usage errors and bad specs exit 2', () => {
    assert.equal(run(['render']).status, ExitCode.BadInput);
    assert.equal(run(['render', '-f', 'examples/ossm2-basic.yaml', '--bogus']).status, ExitCode.BadInput);
    assert.equal(run(['render', '-f', '-'], 'kind: nope\n').status, ExitCode.BadInput);
  });
});

describe('-f - reads stdin everywhere a file is read', () => {
  it('render -f -', () => {
    const res = run(['render', '-f', '-'], spec('ossm2-basic'));
    assert.equal(res.status, 0, res.stderr);
    const strip = (y: string) => y.replace(/tls\.(crt|key): \S+/g, '');
    assert.equal(strip(res.stdout), strip(run(['render', '-f', 'examples/ossm2-basic.yaml']).stdout));
    assert.ok(parseAllDocuments(res.stdout).length > 10);
  });
  it('errors in stdin are positioned as <stdin>:LINE:COL', () => {
    const res = run(
      ['render', '-f', '-'],
      'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: a}\nspec: {bogus: 1}\n',
    );
    assert.equal(res.status, 2);
    assert.equal(res.stderr, '<stdin>:4:8: spec.bogus: unknown field "bogus"\n');
  });
  it('verify -f -, verify -m -, authz -m -, mesh-ify -', () => {
    const rendered = run(['render', '-f', 'examples/ossm2-tenants.yaml']).stdout;
    const a = run(['verify', '-f', '-', '-o', 'json'], spec('ossm2-tenants'));
    const b = run(['verify', '-m', '-', '-o', 'json'], rendered);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout).paths.length, JSON.parse(a.stdout).paths.length);
    const z = run(['authz', '-m', '-', '--request', REQUEST, '-o', 'json'], rendered);
    assert.equal(z.status, 0, z.stderr);
    assert.ok(['ALLOW', 'DENY'].includes(JSON.parse(z.stdout).decision));
    const ksvc =
      'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: h, namespace: a}\nspec:\n  template:\n    spec: {containers: [{image: x}]}\n';
    const m = run(['mesh-ify', '-'], ksvc);
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stdout, /sidecar\.istio\.io\/inject: "true"/);
    assert.equal(run(['mesh-ify', '-i', '-'], ksvc).status, 2);
  });
});

describe('-o is the output format in every command', () => {
  it('every command has -o, --output <format> and none uses -o for a directory', () => {
    // completion prints a shell script and __complete cobra's candidate lines (kubectl's `completion` has no -o either).
    for (const cmd of buildProgram().commands.filter((c) => !['completion', '__complete'].includes(c.name()))) {
      const o = cmd.options.find((x) => x.short === '-o');
      assert.ok(o, `${cmd.name()} has no -o`);
      assert.equal(o.long, '--output', `${cmd.name()}: -o is ${o.long}`);
      // report writes one format only: its HTML.
      const defaults = cmd.name() === 'report' ? ['html'] : ['yaml', 'text'];
      assert.ok(defaults.includes(String(o.defaultValue)), `${cmd.name()}: default ${String(o.defaultValue)}`);
    }
  });
  it('render -o yaml|json|text', () => {
    const y = run(['render', '-f', 'examples/kourier.yaml', '-o', 'yaml']);
    const j = run(['render', '-f', 'examples/kourier.yaml', '-o', 'json']);
    const t = run(['render', '-f', 'examples/kourier.yaml', '-o', 'text']);
    for (const r of [y, j, t]) assert.equal(r.status, 0, r.stderr);
    const items = JSON.parse(j.stdout).items as Array<{ kind: string; metadata: { name: string } }>;
    assert.equal(parseAllDocuments(y.stdout).length, items.length);
    assert.equal(t.stdout.trimEnd().split('\n').length, items.length + 1);
    assert.match(t.stdout, /^KIND\s+NAMESPACE\s+NAME\n/);
  });
  it('the old -o DIR is a usage error with a hint', () => {
    const res = run(['render', '-f', 'examples/kourier.yaml', '-o', './out']);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /-o is the output format, for a directory use --output-dir \.\/out/);
  });
  it('verify -o yaml and -o sarif (findings); exit 1 when there are findings', () => {
    const y = run(['verify', '-f', 'examples/ossm2-tenants.yaml', '-o', 'yaml']);
    assert.equal(y.status, 0, y.stderr);
    assert.ok(Array.isArray(parseAllDocuments(y.stdout)[0]!.toJS().paths));
    const leaky =
      'apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: allow-all, namespace: knative-serving}\nspec: {rules: [{}]}\n';
    const rendered = run(['render', '-f', 'examples/ossm2-tenants.yaml']).stdout;
    const s = run(['verify', '-m', '-', '-o', 'sarif'], `${rendered}---\n${leaky}`);
    const sarif = JSON.parse(s.stdout);
    assertValidSarif(sarif);
    const results = sarif.runs[0].results as Array<{ ruleId: string; message: { text: string } }>;
    assert.ok(results.length > 0 && results.every((r) => r.message.text.length > 0), s.stdout);
    assert.equal(s.status, 1, s.stderr);
    const clean = JSON.parse(run(['verify', '-f', 'examples/ossm2-tenants.yaml', '-o', 'sarif']).stdout);
    assertValidSarif(clean);
    assert.deepEqual(clean.runs[0].results, []);
  });
  it('authz -o yaml, service -o json, certs -o json (paths only, no key material), mesh-ify -o json', () => {
    const rendered = run(['render', '-f', 'examples/ossm2-tenants.yaml']).stdout;
    const a = run(['authz', '-m', '-', '--request', REQUEST, '-o', 'yaml'], rendered);
    assert.equal(a.status, 0, a.stderr);
    assert.match(parseAllDocuments(a.stdout)[0]!.toJS().decision, /^(ALLOW|DENY)$/);
    const s = run(['service', '--name', 'h', '--namespace', 'a', '--image', 'quay.io/x/y:1', '-o', 'json']);
    assert.equal(JSON.parse(s.stdout).kind, 'Service');
    const dir = tmp();
    const c = run(['certs', '--domain', 'apps.example.com', '--output-dir', dir, '-o', 'json']);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).files.length, 4);
    assert.doesNotMatch(c.stdout + c.stderr, /PRIVATE KEY/);
    const m = run(
      ['mesh-ify', '-', '-o', 'json'],
      'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: h, namespace: a}\nspec: {template: {spec: {containers: [{image: x}]}}}\n',
    );
    assert.equal(JSON.parse(m.stdout).items[0].spec.template.metadata.labels['sidecar.istio.io/inject'], 'true');
  });
});

describe('apply progress on a non-terminal stderr', () => {
  const sink = () => {
    const lines: string[] = [];
    return {
      lines,
      stream: { isTTY: false, write: (s: string) => lines.push(...s.trimEnd().split('\n')) } as unknown as NodeJS.WriteStream,
    };
  };
  it('a step with an announcement says what it waits for before waiting, and shows progress lines', async () => {
    const { lines, stream } = sink();
    let seenBeforeRun = -1;
    await runSteps(
      [
        {
          title: 'Wait for KnativeServing Ready before AuthorizationPolicies',
          announce: 'KnativeServing/knative-serving/knative-serving must be Ready first',
          run: async (setOutput) => {
            seenBeforeRun = lines.length;
            for (let i = 0; i < 3; i++) {
              setOutput(`waiting for KnativeServing (Ready=False) ${i}`);
              await new Promise((r) => setTimeout(r, 30));
            }
            return 'Ready after 0.1 s';
          },
        },
      ],
      { stream, progressEveryMs: 20 },
    );
    assert.equal(seenBeforeRun, 1);
    assert.equal(
      lines[0],
      '[1/1] Wait for KnativeServing Ready before AuthorizationPolicies: KnativeServing/knative-serving/knative-serving must be Ready first',
    );
    assert.ok(
      lines.some((l) => /^\[1\/1\] .*: waiting for KnativeServing \(Ready=False\) \d \(\d+ ms\)$/.test(l)),
      lines.join('\n'),
    );
    assert.match(lines.at(-1)!, /: Ready after 0\.1 s \(\d+ ms\)$/);
  });
});
