/**
 * bench/apply: the bundle of 300 tenants × 3 namespaces against the test apiserver, serverless-mesh apply
 * vs `kubectl apply --server-side -f <the same rendered file>`: first apply and unchanged re-apply.
 * Both run against the same apiserver binary, configuration and etcd, each right after a fresh apiserver
 * start on an emptied store (etcd keys of the bundle's kinds deleted in between), so neither inherits the
 * other's objects. Targets: ≥ 2× faster than kubectl first time, ≥ 5× unchanged.
 * The CLI runs as installed: from the esbuild bundle, rebuilt here first.
 * Run: node --import tsx bench/apply.ts   (TENANTS=…, ROUNDS=… to change the size and the number of rounds)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withOwnership } from '../src/cluster/plan.ts';
import { prepareTls } from '../src/certs/prepare.ts';
import { render } from '../src/render/index.ts';
import { toYaml } from '../src/render/serialize.ts';
import { parseSpec } from '../src/api/load.ts';
import { adminClient, fakeOperators, cli, R } from '../test/integration/helpers.ts';
// @ts-expect-error plain ESM script without types
import { build } from '../scripts/build.mjs';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../scripts/test-env.mjs';
import { tenantSpecText } from './tenant-spec.ts';

const TENANTS = Number(process.env.TENANTS ?? 300);
const NAMESPACES = 3;

const specText = tenantSpecText(TENANTS, NAMESPACES);

const dir = mkdtempSync(join(tmpdir(), 'sm-bench-apply-'));
const runDir = join(dir, 'env');
const specPath = join(dir, 'bench.yaml');
const renderedPath = join(dir, 'rendered.yaml');
writeFileSync(specPath, specText);

const mesh = parseSpec(specPath, specText);
const tls = await prepareTls(mesh);
// kubectl gets exactly the bodies our apply sends (ownership labels included), so both store the same objects.
const objects = render(mesh, tls ? { tls } : {}).map((o) => withOwnership(o, mesh.metadata.name));
writeFileSync(renderedPath, toYaml(objects), { mode: 0o600 });
process.stderr.write(`bench/apply: ${TENANTS} tenants × ${NAMESPACES} namespaces = ${objects.length} objects\n`);

testEnv.install();
await build(); // the CLI as `npm ci` leaves it: dist/cli.mjs
const kubectl: string = testEnv.kubectlPath();

async function freshApiserver(first: boolean): Promise<Record<string, string>> {
  if (first) return testEnv.start({ dir: runDir, controllerManager: false });
  // Empty the store of everything the bundle created, then restart the apiserver so its caches agree.
  await testEnv.stopProcess(runDir, 'kube-apiserver');
  const etcd = JSON.parse(readFileSync(join(runDir, 'etcd.cmd.json'), 'utf8')) as { args: string[] };
  const client = etcd.args[etcd.args.indexOf('--listen-client-urls') + 1]!;
  for (const prefix of [
    '/registry/namespaces/',
    '/registry/secrets/',
    '/registry/services/',
    '/registry/networkpolicies/',
    '/registry/maistra.io/',
    '/registry/networking.istio.io/',
    '/registry/security.istio.io/',
    '/registry/operator.knative.dev/',
    '/registry/operator.serverless.openshift.io/',
  ]) {
    const key = Buffer.from(prefix);
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1; // prefix range end: last byte + 1
    const r = await fetch(`${client}/v3/kv/deleterange`, {
      method: 'POST',
      body: JSON.stringify({ key: key.toString('base64'), range_end: end.toString('base64') }),
    });
    if (!r.ok) throw new Error(`etcd deleterange ${prefix}: ${r.status}`);
  }
  await testEnv.restartApiserver(runDir);
  return JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8'));
}

// CPU seconds (user + system) of a test-env process, from /proc: shows who is busy while an apply runs.
function cpuSeconds(name: string): number {
  try {
    const pid = readFileSync(join(runDir, `${name}.pid`), 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

interface Sample {
  ms: number;
  apiserverCpu: number;
  etcdCpu: number;
}
async function measured(run: () => number | Promise<number>): Promise<Sample> {
  const api = cpuSeconds('kube-apiserver');
  const etcd = cpuSeconds('etcd');
  const ms = await run();
  return { ms, apiserverCpu: cpuSeconds('kube-apiserver') - api, etcdCpu: cpuSeconds('etcd') - etcd };
}

function timeKubectl(env: Record<string, string>): number {
  const t0 = performance.now();
  const r = spawnSync(kubectl, ['apply', '--server-side', '-f', renderedPath, `--kubeconfig=${env.KUBECONFIG}`], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`kubectl failed (${r.status}): ${(r.stderr || r.stdout).slice(0, 2000)}`);
  return ms;
}

async function timeOurs(env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const r = await cli(
    ['apply', '-f', specPath, ...(process.env.BENCH_CONCURRENCY ? ['--concurrency', process.env.BENCH_CONCURRENCY] : [])],
    { KUBECONFIG: env.KUBECONFIG },
  ).done;
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`serverless-mesh apply failed (${r.code}): ${r.stderr.slice(-3000)}`);
  if (process.env.BENCH_VERBOSE) process.stderr.write(r.stderr);
  return ms;
}

// Rounds: each tool gets an emptied store and a just-restarted apiserver, first apply then unchanged
// re-apply; the tool that goes first alternates between rounds. The machine is noisy (the same run
// varies by ±20 %), so every round is reported and the verdict uses the median of the per-round ratios.
const ROUNDS = Number(process.env.ROUNDS ?? 3);
type Tool = 'kubectl' | 'ours';
const samples: { tool: Tool; first: Sample; again: Sample }[][] = [];
try {
  let env = await freshApiserver(true);
  process.env.KUBECONFIG = env.KUBECONFIG;
  let started = true;
  for (let round = 0; round < ROUNDS; round++) {
    const order: Tool[] = round % 2 === 0 ? ['kubectl', 'ours'] : ['ours', 'kubectl'];
    const row: { tool: Tool; first: Sample; again: Sample }[] = [];
    for (const tool of order) {
      if (!started) env = await freshApiserver(false);
      started = false;
      if (tool === 'kubectl') {
        row.push({ tool, first: await measured(() => timeKubectl(env)), again: await measured(() => timeKubectl(env)) });
      } else {
        // Our apply waits for KnativeServing Ready before the policies: play that operator only (10 small
        // lists a second), so the stand-in costs the apiserver next to nothing.
        const stopOps = fakeOperators(adminClient(env.KUBECONFIG), [R.ks], 100);
        try {
          row.push({ tool, first: await measured(() => timeOurs(env)), again: await measured(() => timeOurs(env)) });
        } finally {
          await stopOps();
        }
      }
    }
    samples.push(row);
    process.stderr.write(`bench/apply: round ${round + 1}/${ROUNDS} done\n`);
  }
} finally {
  await testEnv.stop({ dir: runDir });
  rmSync(dir, { recursive: true, force: true });
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const cpuText = (x: Sample) => `apiserver ${x.apiserverCpu.toFixed(1)} s, etcd ${x.etcdCpu.toFixed(1)} s CPU`;
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
console.log(`objects: ${objects.length}, rounds: ${ROUNDS}`);
const ratios: Record<'first' | 'again', number[]> = { first: [], again: [] };
samples.forEach((row, i) => {
  const k = row.find((r) => r.tool === 'kubectl')!;
  const o = row.find((r) => r.tool === 'ours')!;
  for (const phase of ['first', 'again'] as const) {
    const ratio = k[phase].ms / o[phase].ms;
    ratios[phase].push(ratio);
    console.log(
      `round ${i + 1} ${phase === 'first' ? 'first apply    ' : 'unchanged apply'}: serverless-mesh ${s(o[phase].ms)} (${cpuText(o[phase])})  kubectl ${s(k[phase].ms)} (${cpuText(k[phase])})  → ${ratio.toFixed(1)}×`,
    );
  }
});
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}×`;
console.log(`first apply:     median ${median(ratios.first).toFixed(1)}× (range ${range(ratios.first)}; target ≥ 2×)`);
console.log(`unchanged apply: median ${median(ratios.again).toFixed(1)}× (range ${range(ratios.again)}; target ≥ 5×)`);
