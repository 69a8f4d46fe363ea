/**
 * bench/fuzz: hostile input through the loaders, counted by class. Targets (issue 9): 0 crashes,
 * 0 hangs over 5 s, 0 errors without a FILE:LINE:COL position.
 *
 * - CASES (default 100,000) in-process: mutated examples, alias structures, YAML-ish garbage and
 *   request JSON through parseSpec, the manifest reader and parseRequest.
 * - CLI_CASES (default 1,000) through the CLI bundle (dist/cli.mjs, built first when stale):
 *   render -f, verify -m, mesh-ify, authz -m/--request, each input a file or stdin.
 *
 * Classes: ok (accepted), input-error (every line positioned), unpositioned (an error line without
 * FILE:LINE:COL), crash (any other exception / exit code, or a stack trace), hang (> 5 s).
 * Run: node --import tsx bench/fuzz.ts   (SEED, CASES, CLI_CASES, CONCURRENCY)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec } from '../src/api/load.ts';
import { parseRequest } from '../src/authz/parse.ts';
import { manifestsFromText } from '../src/manifests/read.ts';
import { InputError } from '../src/util/errors.ts';
import { aliasYaml, mutate, prng, randomAliasNode, randomMutations, TOKENS } from '../test/helpers/yaml-mutations.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SEED = Number(process.env.SEED ?? 9);
const CASES = Number(process.env.CASES ?? 100_000);
const CLI_CASES = Number(process.env.CLI_CASES ?? 1_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? Math.max(2, Math.min(8, cpus().length)));
const HANG_MS = 5_000;

type Class = 'ok' | 'input-error' | 'unpositioned' | 'crash' | 'hang';
const EXAMPLES = ['ossm2-basic', 'ossm2-tenants', 'ossm2-kafka', 'kourier'].map((n) =>
  readFileSync(join(ROOT, 'examples', `${n}.yaml`), 'utf8'),
);
const MANIFEST =
  'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow, namespace: team-a, labels: &l {app: x}}\nspec:\n  selector: {matchLabels: *l}\n  rules:\n    - from: [{source: {namespaces: [team-a]}}]\n---\napiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Namespace, metadata: {name: team-a}}\n';
const KSVC =
  'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: &m {name: hello, namespace: team-a}\nspec:\n  template:\n    metadata: {labels: {app: hello}}\n    spec: {containers: [{image: x}]}\n';
const REQUEST = JSON.stringify(
  {
    source: { namespace: 'a', serviceAccount: 'd' },
    destination: { namespace: 'b', port: 8080, labels: { app: 'x' } },
    method: 'GET',
    path: '/',
  },
  null,
  2,
);
const HEAD = 'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: a}\n';

const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

function garbage(): string {
  let s = '';
  const n = Math.floor(rand() * 40);
  for (let i = 0; i < n; i++) s += rand() < 0.6 ? pick(TOKENS) : String.fromCharCode(Math.floor(rand() * 0x250));
  return s;
}

/** One case: which parser, and the text. */
function nextCase(): { target: 'spec' | 'manifest' | 'request'; text: string } {
  const r = rand();
  if (r < 0.45) return { target: 'spec', text: mutate(pick(EXAMPLES), randomMutations(rand)) };
  if (r < 0.55)
    return { target: 'spec', text: rand() < 0.5 ? aliasYaml(randomAliasNode(rand)) : `${HEAD}spec: ${aliasYaml(randomAliasNode(rand))}\n` };
  if (r < 0.62) return { target: 'spec', text: garbage() };
  if (r < 0.8) return { target: 'manifest', text: mutate(pick([MANIFEST, KSVC, EXAMPLES[0] as string]), randomMutations(rand)) };
  if (r < 0.85)
    return {
      target: 'manifest',
      text: rand() < 0.5 ? garbage() : `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: ${aliasYaml(randomAliasNode(rand))}\n`,
    };
  return { target: 'request', text: rand() < 0.8 ? mutate(REQUEST, randomMutations(rand)) : garbage() };
}

function classify(file: string, fn: () => unknown): { cls: Class; detail?: string; ms: number } {
  const t0 = performance.now();
  let cls: Class = 'ok';
  let detail: string | undefined;
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) {
      cls = 'crash';
      detail = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 3).join(' | ') : String(e);
    } else {
      const bad = e.message.split('\n').find((l) => !(l.startsWith(`${file}:`) && /^:\d+:\d+: \S/.test(l.slice(file.length))));
      cls = bad === undefined ? 'input-error' : 'unpositioned';
      detail = bad;
    }
  }
  const ms = performance.now() - t0;
  if (ms > HANG_MS) cls = 'hang';
  return { cls, detail, ms };
}

function table(title: string, counts: Map<string, number>, total: number, extra: string): void {
  console.log(`\n${title}: ${total} cases${extra}`);
  for (const [k, v] of [...counts].sort()) console.log(`  ${k.padEnd(28)} ${String(v).padStart(7)}  ${((100 * v) / total).toFixed(2)} %`);
}

// ---- in-process ---------------------------------------------------------------------------------
const counts = new Map<string, number>();
const examples = new Map<string, string>();
let slowest = 0;
const t0 = performance.now();
for (let i = 0; i < CASES; i++) {
  const c = nextCase();
  const file = c.target === 'request' ? '--request' : 'fuzz.yaml';
  const r = classify(file, () =>
    c.target === 'spec' ? parseSpec(file, c.text) : c.target === 'manifest' ? manifestsFromText(file, c.text) : parseRequest(c.text),
  );
  slowest = Math.max(slowest, r.ms);
  const key = `${c.target}/${r.cls}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (r.cls !== 'ok' && r.cls !== 'input-error' && !examples.has(key))
    examples.set(key, `${JSON.stringify(c.text.slice(0, 300))} → ${r.detail}`);
}
const inMs = performance.now() - t0;
table(
  'in-process (parseSpec, manifest reader, parseRequest)',
  counts,
  CASES,
  ` in ${(inMs / 1000).toFixed(1)} s (${((1000 * inMs) / CASES).toFixed(0)} µs/case, slowest ${slowest.toFixed(0)} ms)`,
);
for (const [k, v] of examples) console.log(`  example ${k}: ${v}`);

// ---- through the CLI bundle ---------------------------------------------------------------------
const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8' });
if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
const dir = mkdtempSync(join(tmpdir(), 'sm-fuzz-'));
const cliCounts = new Map<string, number>();
const cliExamples = new Map<string, string>();
let cliSlowest = 0;

function cliCase(i: number): { args: string[]; input?: string; file: string; label: string } {
  const c = nextCase();
  const viaStdin = rand() < 0.3;
  const path = join(dir, `case-${i}.yaml`);
  if (!viaStdin) writeFileSync(path, c.text);
  const src = viaStdin ? '-' : path;
  const name = viaStdin ? '<stdin>' : path;
  const io = viaStdin ? { input: c.text } : {};
  if (c.target === 'spec') return { args: ['render', '-f', src], file: name, label: 'render -f', ...io };
  // argv cannot hold NUL: the shell could not pass one either
  if (c.target === 'request')
    return {
      args: ['authz', '-m', join(ROOT, 'examples/ossm2-basic.yaml'), '--request', c.text.replace(/\0/g, ' ')],
      file: '--request',
      label: 'authz --request',
    };
  const cmd = pick(['verify', 'mesh-ify', 'authz']);
  if (cmd === 'verify') return { args: ['verify', '-m', src], file: name, label: 'verify -m', ...io };
  if (cmd === 'mesh-ify') return { args: ['mesh-ify', src], file: name, label: 'mesh-ify', ...io };
  return { args: ['authz', '-m', src, '--request', REQUEST], file: name, label: 'authz -m', ...io };
}

function runCli(c: ReturnType<typeof cliCase>): Promise<{ cls: Class; detail?: string; ms: number }> {
  return new Promise((resolve) => {
    const t = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), ...c.args], {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(c.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - t;
      if (hung) return resolve({ cls: 'hang', ms });
      if (code === 0 || (code === 1 && c.label === 'verify -m')) return resolve({ cls: 'ok', ms });
      if (code !== 2 || /\n\s+at |internal error/.test(stderr))
        return resolve({ cls: 'crash', detail: `exit ${code}: ${stderr.slice(0, 300)}`, ms });
      const bad = stderr
        .trimEnd()
        .split('\n')
        .find((l) => !(l.startsWith(`${c.file}:`) && /^:\d+:\d+: \S/.test(l.slice(c.file.length))));
      resolve(bad === undefined ? { cls: 'input-error', ms } : { cls: 'unpositioned', detail: bad.slice(0, 300), ms });
    });
  });
}

const cases = Array.from({ length: CLI_CASES }, (_, i) => cliCase(i));
const t1 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const r = await runCli(c);
      cliSlowest = Math.max(cliSlowest, r.ms);
      const key = `${c.label}/${r.cls}`;
      cliCounts.set(key, (cliCounts.get(key) ?? 0) + 1);
      if (r.cls !== 'ok' && r.cls !== 'input-error' && !cliExamples.has(key))
        cliExamples.set(key, `${c.args.slice(0, 2).join(' ')} ${JSON.stringify((c.input ?? '').slice(0, 200))} → ${r.detail}`);
    }
  }),
);
rmSync(dir, { recursive: true, force: true });
table(
  `CLI bundle (${CONCURRENCY} in parallel)`,
  cliCounts,
  CLI_CASES,
  ` in ${((performance.now() - t1) / 1000).toFixed(1)} s (slowest ${cliSlowest.toFixed(0)} ms)`,
);
for (const [k, v] of cliExamples) console.log(`  example ${k}: ${v}`);

const sum = (m: Map<string, number>, cls: Class) => [...m].filter(([k]) => k.endsWith(`/${cls}`)).reduce((n, [, v]) => n + v, 0);
const verdict = (['crash', 'hang', 'unpositioned'] as const).map((c) => `${c} ${sum(counts, c) + sum(cliCounts, c)}`).join(', ');
const pass = (['crash', 'hang', 'unpositioned'] as const).every((c) => sum(counts, c) + sum(cliCounts, c) === 0);
console.log(`\ntargets (0 crashes, 0 hangs > 5 s, 0 errors without position): ${verdict} → ${pass ? 'met' : 'NOT met'}`);
process.exitCode = pass ? 0 : 1;
