/**
 * bench/controller: `serverless-mesh controller run` (a real process, the esbuild bundle) against a test
 * apiserver of its own holding one ServerlessMesh CR of 1,000 tenants × 3 namespaces plus 20,000
 * unrelated Secrets (1 KiB each). Targets:
 *   - steady-state RSS < 150 MB (VmRSS sampled every 500 ms from /proc over a window that includes a
 *     full no-op resync; VmHWM, the peak since start including the first apply, is printed as well);
 *   - an owned AuthorizationPolicy deleted by hand is back in < 2 s (median of 20; time from the
 *     DELETE's response to the ADDED event of a watch on that name);
 *   - a no-op resync of the whole spec issues no write: counted outside the controller, by the
 *     apiserver's audit log (create/update/patch/delete by the controller's own user during a window
 *     holding a complete resync reconcile), and by the resourceVersions of every owned object.
 * The apiserver is restarted once after start with an audit policy and a token for the controller.
 * Run: npm run bench:controller   (TENANTS=…, SECRETS=…, DELETES=… to change the sizes)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { sleep, type KubeClient } from '../src/cluster/client.ts';
import { Discovery } from '../src/cluster/discovery.ts';
import { resourcePath } from '../src/cluster/ops.ts';
import { MANAGED_BY, FIELD_MANAGER, PRUNABLE_KINDS, SPEC_LABEL } from '../src/cluster/plan.ts';
import { CR_RESOURCE } from '../src/controller/crd.ts';
import type { KubeObject } from '../src/util/kube.ts';
import { adminClient, fakeOperators, get, list, R, waitUntil } from '../test/integration/helpers.ts';
import { installCrd } from '../test/integration/controller-helpers.ts';
// @ts-expect-error plain ESM script without types
import { build } from '../scripts/build.mjs';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../scripts/test-env.mjs';
import { createSecrets } from './secrets.ts';
import { tenantSpecText } from './tenant-spec.ts';

const TENANTS = Number(process.env.TENANTS ?? 1000);
const SECRETS = Number(process.env.SECRETS ?? 20_000);
const DELETES = Number(process.env.DELETES ?? 20);
const NAME = 'bench';
const root = join(import.meta.dirname, '..');
const say = (s: string) => process.stderr.write(`bench/controller: ${s}\n`);

const dir = mkdtempSync(join(tmpdir(), 'sm-bench-controller-'));
const runDir = join(dir, 'env');
const auditLog = join(dir, 'audit.log');
let ctl: ReturnType<typeof spawn> | undefined;
let stopOperators: (() => Promise<void>) | undefined;
let c: KubeClient | undefined;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

function procStatus(pid: number): { rss: number; hwm: number } {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(t)?.[1]), hwm: Number(/VmHWM:\s+(\d+)/.exec(t)?.[1]) };
}

interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  requestReceivedTimestamp: string;
  responseStatus?: { code?: number };
}
function auditWrites(fromMs: number, toMs: number): AuditEvent[] {
  if (!existsSync(auditLog)) return [];
  return readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => {
      const t = Date.parse(e.requestReceivedTimestamp);
      return e.user.username === 'bench-controller' && t >= fromMs && t <= toMs;
    });
}

/** resourceVersion of every owned object, by kind/namespace/name. */
async function ownedVersions(client: KubeClient, discovery: Discovery): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const k of PRUNABLE_KINDS) {
    const info = await discovery.resolve(k.apiVersion, k.kind);
    if (!info || seen.has(`${info.group}/${info.plural}`)) continue;
    seen.add(`${info.group}/${info.plural}`);
    for (const o of await list(client, info, `${MANAGED_BY}=${FIELD_MANAGER},${SPEC_LABEL}=${NAME}`))
      out.set(`${k.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion as string);
  }
  return out;
}

async function cleanup(): Promise<void> {
  if (ctl && ctl.exitCode === null) {
    ctl.kill('SIGTERM');
    await new Promise((r) => ctl!.once('exit', r));
  }
  await stopOperators?.();
  c?.close();
  await testEnv.stop({ dir: runDir, quiet: true });
  rmSync(dir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));

try {
  testEnv.install();
  await build(); // the controller runs as installed: dist/cli.mjs
  const env = (await testEnv.start({ dir: runDir, controllerManager: false })) as Record<string, string>;
  // A user of its own for the controller (audit filter) and an audit policy that logs writes only.
  const token = randomBytes(24).toString('hex');
  appendFileSync(join(runDir, 'tokens.csv'), `${token},bench-controller,bench-controller,"system:masters"\n`);
  const kc = yaml.load(readFileSync(env.KUBECONFIG!, 'utf8')) as { users: { name: string; user: { token: string } }[] };
  kc.users[0]!.user.token = token;
  const controllerKubeconfig = join(dir, 'kubeconfig-controller');
  writeFileSync(controllerKubeconfig, yaml.dump(kc), { mode: 0o600 });
  const policy = join(dir, 'audit-policy.yaml');
  writeFileSync(
    policy,
    yaml.dump({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      rules: [
        { level: 'Metadata', users: ['bench-controller'], verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
        { level: 'None' },
      ],
    }),
  );
  await testEnv.stopProcess(runDir, 'kube-apiserver');
  await testEnv.restartApiserver(runDir, [`--audit-log-path=${auditLog}`, `--audit-policy-file=${policy}`, '--audit-log-maxsize=0']);

  c = adminClient(env.KUBECONFIG);
  const discovery = new Discovery(c);
  await installCrd(c);
  let t0 = performance.now();
  await createSecrets(c, discovery, SECRETS);
  say(`${SECRETS} unrelated Secrets in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  stopOperators = fakeOperators(c, undefined, 1000);

  const cr = yaml.load(tenantSpecText(TENANTS, 3)) as KubeObject;
  await c.request('PATCH', resourcePath(CR_RESOURCE, undefined, NAME), {
    body: cr,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'bench', force: true },
  });

  let log = '';
  let reconciles = 0;
  t0 = performance.now();
  ctl = spawn(
    process.execPath,
    [
      join(root, 'bin/serverless-mesh.js'),
      '--kubeconfig',
      controllerKubeconfig,
      'controller',
      'run',
      '--no-leader-elect',
      '--listen',
      '127.0.0.1:0',
      '--resync',
      '30s',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SERVERLESS_MESH_PLAIN: '1' } },
  );
  const pid = ctl.pid!;
  ctl.stderr!.on('data', (d: Buffer) => {
    const s = d.toString();
    log += s;
    reconciles += (s.match(/^reconcile bench: /gm) ?? []).length;
    if (process.env.VERBOSE) process.stderr.write(s);
  });
  const exited = new Promise<void>((_, reject) =>
    ctl!.on('exit', (code) => reject(new Error(`controller exited (${code}): ${log.slice(-2000)}`))),
  );
  exited.catch(() => {});
  const ready = async () => {
    const o = await get(c!, CR_RESOURCE, undefined, NAME);
    const conds = (o?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    return conds.some((x) => x.type === 'Ready' && x.status === 'True');
  };
  await Promise.race([waitUntil('Ready', ready, 30 * 60_000), exited]);
  const objects = ((await get(c, CR_RESOURCE, undefined, NAME))!.status as { objects: number }).objects;
  const firstMs = performance.now() - t0;
  say(`Ready after ${(firstMs / 1000).toFixed(1)} s: ${objects} objects; VmHWM so far ${mb(procStatus(pid).hwm)}`);

  // Steady state: RSS samples over two resync periods (two complete no-op reconciles of the whole spec).
  await sleep(2000);
  const before = await ownedVersions(c, discovery);
  const winStart = Date.now();
  const r0 = reconciles;
  const samples: number[] = [];
  while (reconciles < r0 + 2) {
    samples.push(procStatus(pid).rss);
    await Promise.race([sleep(500), exited]);
  }
  await sleep(1000); // the audit log is written at ResponseComplete
  const winEnd = Date.now();
  const writes = auditWrites(winStart, winEnd);
  const after = await ownedVersions(c, discovery);
  const changed = [...before].filter(([k, v]) => after.get(k) !== v).length + [...after.keys()].filter((k) => !before.has(k)).length;
  // Where the memory is (the controller's own /metrics, prom-client's process and heap gauges).
  const port = Number(/serving \/healthz \/readyz \/metrics on [^\s:]+:(\d+)/.exec(log)?.[1]);
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const gauge = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(metrics)?.[1] ?? NaN) / 1024 / 1024;
  const heap = `heap used ${gauge('serverless_mesh_nodejs_heap_size_used_bytes').toFixed(0)} MB of ${gauge('serverless_mesh_nodejs_heap_size_total_bytes').toFixed(0)} MB, external ${gauge('serverless_mesh_nodejs_external_memory_bytes').toFixed(0)} MB`;
  const steadyMax = Math.max(...samples);
  const steadyMed = median(samples);
  const idle = /\((\d+) ms\)\s*$/m.exec(
    log
      .split('\n')
      .filter((l) => l.startsWith('reconcile bench: '))
      .slice(-1)[0] ?? '',
  )?.[1];

  // Deleted by hand: DELETES owned AuthorizationPolicies in different tenants, one at a time.
  const aps = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((o) => o.metadata.namespace?.startsWith('tenant-'));
  const step = Math.max(1, Math.floor(aps.length / DELETES));
  const restore: number[] = [];
  const notReadyAfter: string[] = [];
  for (let i = 0; i < DELETES; i++) {
    const ap = aps[(i * step) % aps.length]!;
    const ns = ap.metadata.namespace!;
    const name = ap.metadata.name;
    // The list's resourceVersion (now), not the object's: that one is long out of the watch cache's window (410).
    const now = await c.request<{ metadata: { resourceVersion: string } }>('GET', resourcePath(R.ap, ns), {
      query: { fieldSelector: `metadata.name=${name}` },
    });
    let back: (() => void) | undefined;
    let watchError: string | undefined;
    const seen = new Promise<void>((r) => (back = r));
    const w = await c.stream(
      resourcePath(R.ap, ns),
      { watch: 1, fieldSelector: `metadata.name=${name}`, resourceVersion: now.metadata.resourceVersion },
      (line) => {
        const ev = line as { type: string; object?: { message?: string } };
        if (ev.type === 'ADDED') back!();
        else if (ev.type === 'ERROR') {
          watchError = `watch of ${ns}/${name}: ${ev.object?.message}`;
          back!();
        }
      },
    );
    const rBefore = reconciles;
    await c.request('DELETE', resourcePath(R.ap, ns, name));
    const td = performance.now();
    await Promise.race([seen, sleep(60_000), exited]);
    if (watchError) throw new Error(watchError);
    restore.push(performance.now() - td);
    w.abort();
    await w.done.catch(() => {});
    // Let the controller settle (the repair's reconcile done and no other pass running: 2 s without a
    // reconcile ending), so the next deletion does not land in a pass that started before it.
    await Promise.race([waitUntil('the reconcile finished', () => Promise.resolve(reconciles > rBefore), 120_000), exited]);
    let lastCount = reconciles;
    let quietSince = performance.now();
    await Promise.race([
      waitUntil(
        'the controller is idle',
        () => {
          if (reconciles !== lastCount) [lastCount, quietSince] = [reconciles, performance.now()];
          return Promise.resolve(performance.now() - quietSince > 2000);
        },
        120_000,
      ),
      exited,
    ]);
    // The repair must leave the CR as it was: Ready, verify unchanged.
    const st = (await get(c, CR_RESOURCE, undefined, NAME))?.status as {
      conditions?: { type: string; status: string; message?: string }[];
    };
    const bad = (st?.conditions ?? []).filter((x) => (x.type === 'Ready' || x.type === 'Verified') && x.status !== 'True');
    if (bad.length) notReadyAfter.push(`${ns}/${name}: ${bad.map((x) => `${x.type}=${x.status}: ${x.message}`).join('; ')}`);
  }
  const restoreMed = median(restore);
  const final = procStatus(pid);
  samples.push(final.rss);

  const ok = (b: boolean) => (b ? 'met' : 'NOT met');
  const lines = [
    `bench/controller: ${TENANTS} tenants × 3 namespaces (${objects} objects) + ${SECRETS} unrelated Secrets; controller as a process (bundle), resync 30 s`,
    `  first reconcile to Ready: ${(firstMs / 1000).toFixed(1)} s; a no-op reconcile of the whole spec: ${idle ?? '?'} ms`,
    `  steady-state RSS: median ${mb(steadyMed)}, max ${mb(steadyMax)} over ${samples.length - 1} samples (2 resyncs); after the deletions ${mb(final.rss)}; VmHWM (peak incl. first apply) ${mb(final.hwm)}; at the end of the window ${heap} — target < 150 MB: ${ok(Math.max(steadyMax, final.rss) < 150 * 1024)}`,
    `  deleted AuthorizationPolicy restored: median ${restoreMed.toFixed(0)} ms of ${restore.length} (min ${Math.min(...restore).toFixed(0)}, max ${Math.max(...restore).toFixed(0)}) — target < 2000 ms: ${ok(restoreMed < 2000)}`,
    `  after each restore the CR was Ready and Verified: ${notReadyAfter.length ? `NO, ${notReadyAfter.length} times; first: ${notReadyAfter[0]!.slice(0, 600)}` : 'yes'}`,
    `  no-op resync (2 complete reconciles): ${writes.length} writes in the audit log${writes.length ? ` (${writes.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`).join(', ')})` : ''}, ${changed} of ${before.size} owned objects with a new resourceVersion — target 0 writes: ${ok(writes.length === 0 && changed === 0)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await cleanup();
}
