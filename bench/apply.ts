/**
 * bench/apply: the bundle of 300 tenants × 3 namespaces against the test apiserver, serverless-mesh apply
 * vs `kubectl apply --server-side -f <the same rendered file>`: first apply and unchanged re-apply.
 * Both run against the same apiserver binary, configuration and etcd, each right after a fresh apiserver
 * start on an emptied store (etcd keys of the bundle's kinds deleted in between), so neither inherits the
 * other's objects. Targets: ≥ 2× faster than kubectl first time, ≥ 5× unchanged.
 * Run: node --import tsx bench/apply.ts   (TENANTS=… to change the size)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withOwnership } from '../src/cluster/plan.ts';
import { prepareTls } from '../src/certs/prepare.ts';
import { render } from '../src/render/index.ts';
import { toYaml } from '../src/render/serialize.ts';
import { parseSpec } from '../src/spec/load.ts';
import { adminClient, fakeOperators, cli, R } from '../test/integration/helpers.ts';
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
const kubectl: string = testEnv.kubectlPath();

async function freshApiserver(first: boolean): Promise<Record<string, string>> {
  if (first) return testEnv.start({ dir: runDir, controllerManager: false });
  // Empty the store of everything the bundle created, then restart the apiserver so its caches agree.
  await testEnv.stopProcess(runDir, 'kube-apiserver');
  const etcd = JSON.parse(readFileSync(join(runDir, 'etcd.cmd.json'), 'utf8')) as { args: string[] };
  const client = etcd.args[etcd.args.indexOf('--listen-client-urls') + 1]!;
  for (const prefix of ['/registry/namespaces/', '/registry/secrets/', '/registry/services/', '/registry/networkpolicies/', '/registry/maistra.io/', '/registry/networking.istio.io/', '/registry/security.istio.io/', '/registry/operator.knative.dev/', '/registry/operator.serverless.openshift.io/']) {
    const key = Buffer.from(prefix);
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1; // prefix range end: last byte + 1
    const r = await fetch(`${client}/v3/kv/deleterange`, { method: 'POST', body: JSON.stringify({ key: key.toString('base64'), range_end: end.toString('base64') }) });
    if (!r.ok) throw new Error(`etcd deleterange ${prefix}: ${r.status}`);
  }
  await testEnv.restartApiserver(runDir);
  return JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8'));
}

// CPU seconds (user + system) of a test-env process, from /proc: shows who is busy while an apply runs.
function cpuSeconds(name: string): number {
  try {
    const pid = readFileSync(join(runDir, `${name}.pid`), 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

const cpu: Record<string, string> = {};
function measured<T>(label: string, run: () => T): T {
  const before = { api: cpuSeconds('kube-apiserver'), etcd: cpuSeconds('etcd') };
  const out = run();
  const after = () => {
    cpu[label] = `apiserver ${(cpuSeconds('kube-apiserver') - before.api).toFixed(1)} s, etcd ${(cpuSeconds('etcd') - before.etcd).toFixed(1)} s CPU`;
  };
  if (out instanceof Promise) return out.finally(after) as T;
  after();
  return out;
}

function timeKubectl(env: Record<string, string>): number {
  const t0 = performance.now();
  const r = spawnSync(kubectl, ['apply', '--server-side', '-f', renderedPath, `--kubeconfig=${env.KUBECONFIG}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`kubectl failed (${r.status}): ${(r.stderr || r.stdout).slice(0, 2000)}`);
  return ms;
}

async function timeOurs(env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const r = await cli(['apply', '-f', specPath, ...(process.env.BENCH_CONCURRENCY ? ['--concurrency', process.env.BENCH_CONCURRENCY] : [])], { KUBECONFIG: env.KUBECONFIG }).done;
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`serverless-mesh apply failed (${r.code}): ${r.stderr.slice(-3000)}`);
  if (process.env.BENCH_VERBOSE) process.stderr.write(r.stderr);
  return ms;
}

const results: Record<string, number> = {};
try {
  let env = await freshApiserver(true);
  results.kubectlFirst = measured('kubectlFirst', () => timeKubectl(env));
  results.kubectlAgain = measured('kubectlAgain', () => timeKubectl(env));

  env = await freshApiserver(false);
  process.env.KUBECONFIG = env.KUBECONFIG;
  // Our apply waits for KnativeServing Ready before the policies: play that operator only (10 small
  // lists a second), so the stand-in costs the apiserver next to nothing.
  const stopOps = fakeOperators(adminClient(env.KUBECONFIG), [R.ks], 100);
  try {
    results.oursFirst = await measured('oursFirst', () => timeOurs(env));
    results.oursAgain = await measured('oursAgain', () => timeOurs(env));
  } finally {
    await stopOps();
  }
} finally {
  await testEnv.stop({ dir: runDir });
  rmSync(dir, { recursive: true, force: true });
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const first = results.kubectlFirst! / results.oursFirst!;
const again = results.kubectlAgain! / results.oursAgain!;
console.log(`objects: ${objects.length}`);
console.log(`first apply:     serverless-mesh ${s(results.oursFirst!)}  kubectl ${s(results.kubectlFirst!)}  → ${first.toFixed(1)}× (target ≥ 2×)`);
console.log(`  CPU during first apply:     serverless-mesh run: ${cpu.oursFirst}; kubectl run: ${cpu.kubectlFirst}`);
console.log(`unchanged apply: serverless-mesh ${s(results.oursAgain!)}  kubectl ${s(results.kubectlAgain!)}  → ${again.toFixed(1)}× (target ≥ 5×)`);
console.log(`  CPU during unchanged apply: serverless-mesh run: ${cpu.oursAgain}; kubectl run: ${cpu.kubectlAgain}`);
