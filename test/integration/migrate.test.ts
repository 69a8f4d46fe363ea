/**
 * `migrate --cluster --apply` against a real kube-apiserver of this file's own (upstream Istio CRDs, which
 * serve v1alpha3/v1beta1 as Maistra 2.5 does and v1 as OSSM 3 needs): an OSSM 2 state applied by
 * `serverless-mesh apply`, plus what the Serverless operator leaves (NetworkPolicies, Routes, Deployments),
 * converges to the ossm3 state; re-running changes nothing; SIGKILLed midway and re-run, it converges too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { Discovery, type ResourceInfo } from '../../src/cluster/discovery.ts';
import { MANAGED_BY, SPEC_LABEL } from '../../src/cluster/plan.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { render } from '../../src/render/index.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';
import { adminClient, cli, fakeOperators, get, list, R, requireCluster, runCli, specFile, waitUntil } from './helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

const X = {
  np: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  route: { group: 'route.openshift.io', version: 'v1', kind: 'Route', plural: 'routes', namespaced: true },
  deploy: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  service: { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  gw1: { group: 'networking.istio.io', version: 'v1', kind: 'Gateway', plural: 'gateways', namespaced: true },
  ap1: { group: 'security.istio.io', version: 'v1', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', namespaced: true },
} satisfies Record<string, ResourceInfo>;

async function create(c: KubeClient, info: ResourceInfo, o: KubeObject): Promise<void> {
  await c.request('POST', resourcePath(info, o.metadata.namespace), { body: o });
}

function ossm2Spec(name: string): ServerlessMesh {
  const m = structuredClone(example('ossm2-tenants'));
  m.metadata.name = name;
  m.spec.members = ['apps-1'];
  return m;
}

/** What the Serverless operator and its route controller leave on an OSSM 2 cluster besides our objects. */
async function operatorLeftovers(c: KubeClient): Promise<void> {
  for (const name of ['webhook', 'net-istio-webhook']) {
    await create(c, X.np, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace: 'knative-serving' },
      spec: { podSelector: { matchLabels: { app: name } }, ingress: [{}] },
    });
  }
  await create(c, X.np, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'users-own', namespace: 'knative-serving' },
    spec: { podSelector: {} },
  });
  const route = (name: string, to: string): KubeObject => ({
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: {
      name,
      namespace: 'istio-system',
      labels: { 'serving.knative.openshift.io/ingressName': 'hello', 'serving.knative.openshift.io/ingressNamespace': 'team-alpha-1' },
    },
    spec: {
      host: `${name}.apps.openshift.example.com`,
      to: { kind: 'Service', name: to, weight: 100 },
      port: { targetPort: 'https' },
      tls: { termination: 'passthrough' },
    },
  });
  await create(c, X.route, route('route-knative', 'istio-ingressgateway'));
  await create(c, X.route, route('route-other', 'my-router'));
  for (const name of ['activator', 'autoscaler', 'controller']) {
    await create(c, X.deploy, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'knative-serving' },
      spec: {
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'example.com/knative/' + name }] } },
      },
    });
  }
}

const tlsCrt = async (c: KubeClient, ns: string) =>
  ((await get(c, R.secret, ns, 'wildcard-certs'))?.data as Record<string, string> | undefined)?.['tls.crt'];

/** The ossm3 end state, and what migrate must not have touched. */
async function assertMigrated(c: KubeClient, name: string, oldCrt: string | undefined, handMade = false): Promise<void> {
  assert.ok(await get(c, R.istio, undefined, 'default'), 'Istio CR');
  assert.ok(await get(c, R.istiocni, undefined, 'default'), 'IstioCNI CR');
  const ns = await get(c, R.namespace, undefined, 'team-alpha-1');
  assert.equal(ns?.metadata.labels?.['istio-injection'], 'enabled');
  assert.equal(ns?.metadata.labels?.['serverlessmesh.dev/tenant'], 'team-alpha');
  assert.equal((await get(c, R.namespace, undefined, 'apps-1'))?.metadata.labels?.['istio-injection'], 'enabled', 'member namespace');
  assert.ok(await get(c, X.deploy, 'knative-serving-ingress', 'knative-istio-ingressgateway'), 'gateway Deployment');
  assert.equal(await tlsCrt(c, 'knative-serving-ingress'), oldCrt, 'the old certificate copied, not a new one');
  // Both Gateways select the new gateway pods and no longer the OSSM 2 ones. (Taken over with --force-conflicts
  // from another manager, a selector keeps that manager's `knative: ingressgateway`: server-side apply merges maps.)
  const newPods = ((await get(c, X.deploy, 'knative-serving-ingress', 'knative-istio-ingressgateway'))?.spec as any).template.metadata
    .labels;
  const oldPods = { app: 'istio-ingressgateway', istio: 'ingressgateway', knative: 'ingressgateway' };
  const selects = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
  for (const name of ['knative-ingress-gateway', 'knative-local-gateway']) {
    const sel = ((await get(c, X.gw1, 'knative-serving', name))?.spec as { selector: Record<string, string> }).selector;
    assert.ok(selects(sel, newPods) && !selects(sel, oldPods), `${name}: ${JSON.stringify(sel)}`);
    if (!handMade) assert.equal(Object.keys(sel).length, 1, `${name}: exactly the ossm3 selector`);
  }
  const ks = await get(c, R.ks, 'knative-serving', 'knative-serving');
  assert.equal(
    (ks?.spec as any).config.istio['gateway.knative-serving.knative-ingress-gateway'],
    'knative-istio-ingressgateway.knative-serving-ingress.svc.cluster.local',
  );
  assert.equal(ks?.metadata.annotations?.['serverless.openshift.io/disable-istio-net-policies-generation'], 'true');
  assert.ok(await get(c, X.ap1, 'knative-serving-ingress', 'allow-traffic-to-ingress-gateway'));
  const tenantAp = await get(c, X.ap1, 'team-alpha-1', 'allow-from-knative-and-istio');
  assert.ok(!JSON.stringify(tenantAp?.spec).includes('istio-system'), 'OSSM 3 tenant policy (§6.7)');
  // Rolled: the injected Knative workloads, not the controller.
  const ann = async (n: string) =>
    ((await get(c, X.deploy, 'knative-serving', n))?.spec as any).template.metadata.annotations?.['serverlessmesh.dev/rolled-for-mesh'];
  assert.equal(await ann('activator'), 'ossm3/default');
  assert.equal(await ann('autoscaler'), 'ossm3/default');
  assert.equal(await ann('controller'), undefined);
  // Routes: the Knative one of the old gateway is gone, the other stays.
  assert.equal(await get(c, X.route, 'istio-system', 'route-knative'), undefined);
  assert.ok(await get(c, X.route, 'istio-system', 'route-other'));
  // Member roll gone; operator leftovers gone; the user's own policy kept.
  assert.deepEqual(await list(c, R.smmr), []);
  for (const n of ['webhook', 'net-istio-webhook', 'allow-from-openshift-monitoring-ns'])
    assert.equal(await get(c, X.np, 'knative-serving', n), undefined, n);
  assert.ok(await get(c, X.np, 'knative-serving', 'users-own'));
  // The control plane keeps running, released from our labels; what only it used is gone.
  const smcp = await get(c, R.smcp, 'istio-system', 'basic');
  assert.ok(smcp, 'SMCP never deleted without --delete-control-plane');
  assert.equal(smcp.metadata.labels?.[MANAGED_BY], undefined);
  assert.deepEqual((smcp.spec as any).security, { dataPlane: { mtls: true } }, 'its spec untouched');
  if (handMade) {
    // Not ours: left where it is (only the documented exceptions are touched).
    assert.ok(await get(c, X.service, 'istio-system', 'knative-local-gateway'));
    assert.ok(await tlsCrt(c, 'istio-system'));
  } else assert.equal(await get(c, X.service, 'istio-system', 'knative-local-gateway'), undefined);
  assert.ok(await get(c, X.service, 'knative-serving-ingress', 'knative-local-gateway'));
  // Everything we own now carries the spec's name.
  assert.ok((await list(c, X.ap1, `${SPEC_LABEL}=${name}`)).length > 30);
}

describe('migrate --cluster --apply from OSSM 2 to OSSM 3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-migrate-'));
  let env: Record<string, string>;
  let c: KubeClient;
  let stopOperators: (() => Promise<void>) | undefined;
  const prevCrds = process.env.SERVERLESS_MESH_TEST_CRDS;

  async function freshOssm2(name: string): Promise<string | undefined> {
    if (env) await testEnv.stop({ dir, quiet: true });
    await stopOperators?.();
    c?.close();
    env = await testEnv.start({ dir, controllerManager: false });
    c = adminClient(env.KUBECONFIG);
    stopOperators = fakeOperators(c, [R.smcp, R.smmr, R.ks, R.ke, R.istio, R.istiocni]);
    const applied = await runCli(['apply', '-f', specFile(ossm2Spec(name)), '--wait', '60s'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(applied.code, 0, applied.stderr);
    await operatorLeftovers(c);
    return tlsCrt(c, 'istio-system');
  }

  before(() => {
    requireCluster();
    // Served by the OSSM 3 operator's CRDs: networking/security v1 next to v1alpha3/v1beta1.
    process.env.SERVERLESS_MESH_TEST_CRDS = 'upstream';
  });
  after(async () => {
    await stopOperators?.();
    c?.close();
    await testEnv.stop({ dir, quiet: true });
    rmSync(dir, { recursive: true, force: true });
    if (prevCrds === undefined) delete process.env.SERVERLESS_MESH_TEST_CRDS;
    else process.env.SERVERLESS_MESH_TEST_CRDS = prevCrds;
  });

  it('converges; a re-run finds every step done; apply of the written spec then prunes nothing', async () => {
    const oldCrt = await freshOssm2('prod');
    assert.ok(oldCrt);
    const out = mkdtempSync(join(tmpdir(), 'sm-migrate-out-'));
    const res = await runCli(['migrate', '--cluster', '--apply', '--output-dir', out], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /\[1\/10\] Install the OSSM 3 control plane \(Istio, IstioCNI\): \d+ applied/);
    assert.match(res.stderr, /\[7\/10\] Move the OpenShift Routes out of istio-system: 1 deleted/);
    await assertMigrated(c, 'prod', oldCrt);
    const spec = readFileSync(join(out, 'serverless-mesh.yaml'), 'utf8');
    assert.match(spec, /flavor: ossm3/);
    assert.match(spec, /name: prod/);
    assert.match(spec, /domain: apps\.openshift\.example\.com/, 'domain read from the certificate');
    assert.match(readFileSync(join(out, 'plan.md'), 'utf8'), /## 10\. Release the OSSM 2 control plane/);

    const again = await runCli(['migrate', '--cluster', '--apply'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stderr.match(/: already done$/gm) ?? []).length, 10, again.stderr);
    assert.match(again.stderr, /0 step\(s\) run, 10 already done/);

    const apply = await runCli(['apply', '-f', join(out, 'serverless-mesh.yaml')], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, /^0 applied, \d+ unchanged, 0 pruned/m);
    assert.ok(await get(c, R.smcp, 'istio-system', 'basic'));
    assert.equal(await tlsCrt(c, 'knative-serving-ingress'), oldCrt, 'apply reuses the certificate in the gateway namespace');
    rmSync(out, { recursive: true, force: true });
  });

  it('SIGKILLed midway (waiting for KnativeServing) and re-run: converges, earlier steps skipped', async () => {
    const oldCrt = await freshOssm2('prod');
    // The Knative operator is "slow": KnativeServing stays not Ready after migrate changes it.
    await stopOperators!();
    stopOperators = fakeOperators(c, [R.smcp, R.smmr, R.istio, R.istiocni]);
    const run = cli(['migrate', '--cluster', '--apply'], { KUBECONFIG: env.KUBECONFIG });
    await waitUntil(
      'KnativeServing switched to the OSSM 3 gateway',
      async () => JSON.stringify((await get(c, R.ks, 'knative-serving', 'knative-serving'))?.spec).includes('knative-serving-ingress.svc'),
      60_000,
    );
    run.child.kill('SIGKILL');
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok((await list(c, R.smmr)).length === 1, 'killed before the member roll step');

    await stopOperators();
    stopOperators = fakeOperators(c, [R.smcp, R.smmr, R.ks, R.ke, R.istio, R.istiocni]);
    const res = await runCli(['migrate', '--cluster', '--apply'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 0, res.stderr);
    for (const n of [1, 2, 3]) assert.match(res.stderr, new RegExp(`\\[${n}/10\\] [^\\n]*: already done`), res.stderr);
    await assertMigrated(c, 'prod', oldCrt);
  });

  it('a failing step stops the run with one line saying how to resume; the fixed re-run converges', async () => {
    // Someone else takes over the Gateway's selector: step 3 meets a field conflict.
    await c.request('PATCH', resourcePath(X.gw1, 'knative-serving', 'knative-ingress-gateway'), {
      body: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'knative-ingress-gateway', namespace: 'knative-serving' },
        spec: { selector: { 'knative-ingress-gateway': 'someone-else' } },
      },
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'someone-else', force: true },
    });
    const res = await runCli(['migrate', '--cluster', '--apply'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 3, res.stderr); // a cluster-side failure (409 conflict)
    assert.match(res.stderr, /\[2\/10\] [^\n]*: already done\n\[3\/10\] [^\n]*: failed\n/);
    const last = res.stderr.trim().split('\n').at(-1)!;
    assert.match(
      last,
      /^migrate stopped at step 3\/10 \(gateways\): Gateway\/knative-serving\/knative-ingress-gateway: conflict \(409\): .*someone-else.*re-run the same command to resume/,
    );
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(await get(c, R.smcp, 'istio-system', 'basic'));

    const fixed = await runCli(['migrate', '--cluster', '--apply', '--force-conflicts'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(fixed.code, 0, fixed.stderr);
    await assertMigrated(c, 'prod', await tlsCrt(c, 'knative-serving-ingress'));
  });

  it('bad input exits 2; --apply refuses blocking unmapped settings before any write', async () => {
    const res = await runCli(['migrate', '-m', '/nonexistent.yaml'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 2, res.stderr);
    const bad = await runCli(['migrate'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /give exactly one of -m PATH… or --cluster/);
    // Kourier: blocking → refused before any write.
    const kourierState = mkdtempSync(join(tmpdir(), 'sm-kourier-'));
    const rendered = await runCli(['render', '-f', join(process.cwd(), 'examples/kourier.yaml'), '--output-dir', kourierState]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const refused = await runCli(['migrate', '-m', kourierState, '--apply'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^migrate: not applying: KnativeServing\/knative-serving\/knative-serving spec\.ingress: Kourier/m);
    assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
    rmSync(kourierState, { recursive: true, force: true });
  });

  it('--delete-control-plane deletes the (released) SMCP in the last step; a re-run then has nothing to migrate', async () => {
    const res = await runCli(['migrate', '--cluster', '--apply', '--delete-control-plane'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((res.stderr.match(/: already done$/gm) ?? []).length, 9, res.stderr);
    assert.match(res.stderr, /\[10\/10\] Delete the OSSM 2 control plane and what only it used: 1 deleted/);
    assert.equal(await get(c, R.smcp, 'istio-system', 'basic'), undefined);
    assert.ok(await get(c, R.istio, undefined, 'default'));
    const again = await runCli(['migrate', '--cluster', '--apply', '--delete-control-plane'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /^migrate: no OSSM 2 control plane or member roll left and an OSSM 3 Istio control plane present: nothing to migrate\n$/,
    );
  });

  it('an installation made by hand (no labels of ours): conflicts stop the run, --force-conflicts converges, the rest is left alone', async () => {
    if (env) await testEnv.stop({ dir, quiet: true });
    await stopOperators?.();
    c?.close();
    env = await testEnv.start({ dir, controllerManager: false });
    c = adminClient(env.KUBECONFIG);
    stopOperators = fakeOperators(c, [R.smcp, R.smmr, R.ks, R.ke, R.istio, R.istiocni]);
    const discovery = new Discovery(c);
    // The documented OSSM 2 procedure, created with plain POSTs (another field manager, none of our labels).
    for (const o of render(ossm2Spec('ignored'), { tls: TEST_TLS })) {
      const info = (await discovery.resolve(o.apiVersion, o.kind))!;
      await create(c, info, o);
    }
    await operatorLeftovers(c);
    const args = ['migrate', '--cluster', '--apply', '--domain', 'apps.openshift.example.com'];
    const first = await runCli(args, { KUBECONFIG: env.KUBECONFIG });
    assert.equal(first.code, 3, first.stderr); // a cluster-side failure (409 conflict)
    assert.match(
      first.stderr.trim().split('\n').at(-1)!,
      /^migrate stopped at step 3\/10 \(gateways\): Gateway\/knative-serving\/knative-(ingress|local)-gateway: conflict \(409\): .*re-run with --force-conflicts.*re-run the same command to resume/,
    );
    const res = await runCli([...args, '--force-conflicts'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 0, res.stderr);
    await assertMigrated(c, 'default', Buffer.from(TEST_TLS.certPem).toString('base64'), true);
  });
});
