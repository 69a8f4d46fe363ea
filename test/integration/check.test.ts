/**
 * `check --cluster` against the real test apiserver: the same findings as file mode for the same
 * objects, one paginated list per kind, Secrets as metadata only (asserted on the requests made and
 * the answers received), and "simulate applying" with -m.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { listCluster, METADATA_ACCEPT, neededKinds } from '../../src/cli/check-commands.ts';
import { buildContext } from '../../src/check/context.ts';
import { runRules } from '../../src/check/engine.ts';
import { RULES } from '../../src/check/registry.ts';
import { ManifestSet } from '../../src/check/source.ts';
import { KubeClient } from '../../src/cluster/client.ts';
import { Discovery } from '../../src/cluster/discovery.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { serverSideApply } from '../../src/cluster/ops.ts';
import type { Finding } from '../../src/report/finding.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { assertValidSarif } from '../helpers/sarif.ts';
import { RecordingClient, isDiscoveryPath, requireCluster, runCli } from './helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

const NS = ['chk-apps', 'chk-data'];
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
/** Objects with findings whose rules read only these objects (no dependence on other tests' cluster state). */
const SEEDED: KubeObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istio-ingressgateway', namespace: 'chk-apps' },
    spec: { type: 'LoadBalancer', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
  },
  {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'chk-apps' },
    spec: {
      template: {
        metadata: { annotations: { 'sidecar.istio.io/inject': 'true' } },
        spec: { containers: [{ image: 'example.com/hello' }] },
      },
    },
  },
  {
    apiVersion: 'security.istio.io/v1beta1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'exact-host', namespace: 'chk-apps' },
    spec: { action: 'ALLOW', rules: [{ to: [{ operation: { hosts: ['hello.chk-apps.svc.cluster.local'] } }] }] },
  },
  {
    apiVersion: 'serving.knative.dev/v1beta1',
    kind: 'DomainMapping',
    metadata: { name: 'shop.example.com', namespace: 'chk-apps' },
    spec: { ref: { name: 'hello', kind: 'Service', apiVersion: 'serving.knative.dev/v1' }, tls: { secretName: 'shop-tls' } },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'shop-tls', namespace: 'chk-apps' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from('top-secret-crt').toString('base64'), 'tls.key': Buffer.from('top-secret-key').toString('base64') },
  },
];
const SECRETS = 1200; // more than two pages of 500
const secret = (i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: `s-${i}`, namespace: 'chk-data' },
  type: 'Opaque',
  data: { password: Buffer.from(`top-secret-${i}`).toString('base64') },
});

const key = (f: Finding) => `${f.code} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`;
const LOCAL = ['SM1002', 'SM2007', 'SM3004', 'SM4004'];

describe('check --cluster against a real kube-apiserver', () => {
  let kubeconfig: string;
  let client: RecordingClient;
  let discovery: Discovery;

  before(async () => {
    kubeconfig = requireCluster();
    client = new RecordingClient(loadKubeConfig({ kubeconfig }));
    discovery = new Discovery(client);
    const apply = async (o: KubeObject) => serverSideApply(client, (await discovery.resolve(o.apiVersion, o.kind))!, o, { force: true });
    for (const n of NS) await apply(ns(n));
    for (const o of SEEDED) await apply(o);
    for (let i = 0; i < SECRETS; i += 50)
      await Promise.all(Array.from({ length: Math.min(50, SECRETS - i) }, (_, j) => apply(secret(i + j))));
    client.calls.length = 0;
  });

  it('lists each kind the rules need once (paged), Secrets as metadata only, nothing by name', async () => {
    const kinds = neededKinds(RULES);
    const { objects, absent } = await listCluster(client, discovery, kinds);
    const lists = client.calls.filter((c) => c.method === 'GET' && !isDiscoveryPath(c.path));
    // Every data request is a collection (no object name after the plural) …
    for (const c of lists) assert.match(c.path, /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/[a-z]+$/, c.path);
    // … and each kind is listed once: first pages (no continue token) are one per resource.
    const firstPages = lists.filter((c) => !c.query?.continue).map((c) => c.path);
    assert.equal(new Set(firstPages).size, firstPages.length, `a kind was listed twice: ${firstPages.join(', ')}`);
    assert.equal(firstPages.length + absent.length, kinds.length);
    // Secrets: PartialObjectMetadataList, paged, no data in any answer.
    const secretCalls = lists.filter((c) => c.path === '/api/v1/secrets');
    assert.ok(secretCalls.length >= 3, `expected paging, got ${secretCalls.length} pages`);
    for (const c of secretCalls) {
      assert.equal(c.accept, METADATA_ACCEPT);
      const answer = c.answer as { kind: string; items: Array<Record<string, unknown>> };
      assert.equal(answer.kind, 'PartialObjectMetadataList');
      for (const it of answer.items)
        assert.deepEqual(
          Object.keys(it).filter((k) => k !== 'metadata' && k !== 'apiVersion' && k !== 'kind'),
          [],
        );
    }
    const secrets = objects.filter((o) => o.kind === 'Secret');
    assert.equal(secrets.filter((o) => o.metadata.namespace === 'chk-data').length, SECRETS);
    for (const s of secrets) assert.deepEqual(Object.keys(s).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.ok(!JSON.stringify(objects).includes(Buffer.from('top-secret-').toString('base64').slice(0, 12)));
    assert.ok(
      !JSON.stringify(client.calls.map((c) => c.answer)).includes(Buffer.from('top-secret-').toString('base64').slice(0, 12)),
      'an answer carried Secret data',
    );
    // Other requests never carried the metadata Accept header; no Secret was read by name.
    assert.ok(!client.calls.some((c) => /\/secrets\/[^/]+$/.test(c.path)));
  });

  it('finds the same findings as file mode for the same objects', async () => {
    const { objects } = await listCluster(client, discovery, neededKinds(RULES));
    const live = runRules(RULES, buildContext(objects)).map(key).sort();
    // File mode over the listed objects, through the YAML reader.
    const set = new ManifestSet();
    set.add('live.yaml', objects.map((o) => yaml.dump(o)).join('---\n'));
    const file = runRules(RULES, buildContext(set.objects), { locate: set.locate }).map(key).sort();
    assert.deepEqual(file, live);
    // And the seeded objects as the user's files: the findings of rules local to them are the same live.
    const seededSet = new ManifestSet();
    seededSet.add('seeded.yaml', SEEDED.map((o) => yaml.dump(o)).join('---\n'));
    const fromFiles = runRules(RULES, buildContext(seededSet.objects), { only: LOCAL }).map(key).sort();
    assert.deepEqual(fromFiles, [
      'SM1002 Service chk-apps/istio-ingressgateway',
      'SM2007 Secret chk-apps/shop-tls',
      'SM3004 Service chk-apps/hello',
      'SM4004 AuthorizationPolicy chk-apps/exact-host',
    ]);
    for (const k of fromFiles) assert.ok(live.includes(k), `${k} missing live`);
  });

  it('CLI: --cluster reports them (exit 1); --cluster -m simulates applying a fix', async () => {
    const r = await runCli(['--kubeconfig', kubeconfig, 'check', '--cluster', '--rule', LOCAL.join(','), '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const codes = (out: string) =>
      (JSON.parse(out) as { findings: Finding[] }).findings
        .filter((f) => f.resource.namespace === 'chk-apps')
        .map(key)
        .sort();
    assert.deepEqual(codes(r.stdout), [
      'SM1002 Service chk-apps/istio-ingressgateway',
      'SM2007 Secret chk-apps/shop-tls',
      'SM3004 Service chk-apps/hello',
      'SM4004 AuthorizationPolicy chk-apps/exact-host',
    ]);
    assert.ok(!r.stdout.includes(Buffer.from('top-secret-').toString('base64').slice(0, 12)));
    const dir = mkdtempSync(join(tmpdir(), 'sm-check-live-'));
    const fix = join(dir, 'fix.yaml');
    writeFileSync(fix, yaml.dump({ ...SEEDED[0], spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } }));
    const sim = await runCli(['--kubeconfig', kubeconfig, 'check', '--cluster', '-m', fix, '--rule', LOCAL.join(','), '-o', 'json']);
    assert.deepEqual(codes(sim.stdout), [
      'SM2007 Secret chk-apps/shop-tls',
      'SM3004 Service chk-apps/hello',
      'SM4004 AuthorizationPolicy chk-apps/exact-host',
    ]);
  });
});

describe('check --cluster on a cluster with no mesh and no Knative (no CRDs at all)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-check-bare-'));
  let env: Record<string, string>;
  before(async () => {
    requireCluster(); // the run's own apiserver proves the toolchain is installed
    env = (await testEnv.start({ dir, crds: false, controllerManager: false })) as Record<string, string>;
  });
  after(async () => {
    await testEnv.stop({ dir, quiet: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('says which kinds the cluster does not serve and which rules had nothing to read (stderr, JSON, SARIF); exit 0', async () => {
    const kube = { KUBECONFIG: env.KUBECONFIG };
    const client = new KubeClient(loadKubeConfig({ kubeconfig: env.KUBECONFIG }));
    const { absent } = await listCluster(client, new Discovery(client), neededKinds(RULES));
    client.close();
    // Every CRD-backed kind is absent; core kinds (Namespace, Service, Secret, ConfigMap…) are served.
    assert.deepEqual(
      absent,
      neededKinds(RULES).filter((k) => k.includes('.') && !k.endsWith('.networking.k8s.io')),
    );
    assert.ok(absent.includes('ServiceMeshControlPlane.maistra.io') && absent.includes('AuthorizationPolicy.security.istio.io'));

    const text = await runCli(['check', '--cluster'], kube);
    assert.equal(text.code, 0, text.stderr);
    const served = text.stderr.split('\n').find((l) => l.startsWith('check: note: the cluster serves no '));
    assert.ok(served, text.stderr);
    for (const k of absent) assert.ok(served.includes(k), `${k} not named: ${served}`);
    assert.match(text.stderr, /check: note: \d+ of \d+ rules skipped, none of the kinds they read is present: .*SM1001/);

    const json = JSON.parse((await runCli(['check', '--cluster', '-o', 'json'], kube)).stdout) as { findings: Finding[]; notes: string[] };
    assert.deepEqual(json.findings, []);
    assert.equal(json.notes.length, 2);
    const sarif = JSON.parse((await runCli(['check', '--cluster', '-o', 'sarif'], kube)).stdout);
    assertValidSarif(sarif);
    assert.deepEqual(
      sarif.runs[0].invocations[0].toolExecutionNotifications.map((n: { message: { text: string } }) => n.message.text),
      json.notes,
    );
  });
});
