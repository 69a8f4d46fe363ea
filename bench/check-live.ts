/**
 * bench/check live mode: a real apiserver holding 20,000 Secrets (1 KiB of data each) plus the render
 * of examples/ossm2-tenants; `check --cluster` runs as a child process and its peak RSS is reported
 * (target < 300 MB). Needs KUBECONFIG of a test apiserver: `node scripts/test-env.mjs start`.
 * Run: KUBECONFIG=… node --import tsx bench/check-live.ts [secrets]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KubeClient } from '../src/cluster/client.ts';
import { Discovery } from '../src/cluster/discovery.ts';
import { loadKubeConfig } from '../src/cluster/kubeconfig.ts';
import { serverSideApply } from '../src/cluster/ops.ts';
import { loadSpecFile } from '../src/api/load.ts';
import { render } from '../src/render/index.ts';
import type { KubeObject } from '../src/util/kube.ts';
import { createSecrets } from './secrets.ts';

const N = Number(process.argv[2] ?? 20_000);
const kubeconfig = process.env.KUBECONFIG;
if (!kubeconfig) throw new Error('KUBECONFIG is not set (node scripts/test-env.mjs start)');
const root = join(import.meta.dirname, '..');
const client = new KubeClient(loadKubeConfig({ kubeconfig }));
const discovery = new Discovery(client);
const apply = async (o: KubeObject) => serverSideApply(client, (await discovery.resolve(o.apiVersion, o.kind))!, o, { force: true });

const mesh = loadSpecFile(join(root, 'examples', 'ossm2-tenants.yaml'));
const bundle = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } });
const t0 = performance.now();
for (const o of bundle.filter((x) => x.kind === 'Namespace')) await apply(o);
for (const o of bundle.filter((x) => x.kind !== 'Namespace')) await apply(o);
await createSecrets(client, discovery, N);
client.close();
console.log(`setup: ${bundle.length} bundle objects + ${N} Secrets in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const r = spawnSync(
  '/usr/bin/time',
  ['-v', process.execPath, join(root, 'bin/serverless-mesh.js'), '--kubeconfig', kubeconfig, 'check', '--cluster', '-o', 'json'],
  { encoding: 'utf8', maxBuffer: 1 << 28 },
);
const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1];
const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1];
const findings = r.stdout ? (JSON.parse(r.stdout) as { findings: unknown[] }).findings.length : NaN;
console.log(
  `check --cluster: exit ${r.status}, ${findings} findings, wall ${wall}, peak RSS ${rss ? (Number(rss) / 1024).toFixed(0) : '?'} MB`,
);
