/**
 * apply of the ossm3 and istio flavours against a real kube-apiserver of this file's own, serving the
 * upstream Istio 1.30 CRDs (networking.istio.io/v1, security.istio.io/v1) as sail-operator and upstream
 * Istio do, next to the sail-operator and Knative operator CRDs (scripts/test-env.mjs,
 * SERVERLESS_MESH_TEST_CRDS=upstream). The run's shared apiserver serves the Maistra 2.5 variants,
 * which have no v1: the OSSM 2 examples are applied there (apply.test.ts). Tests run in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { Discovery, type ResourceInfo } from '../../src/cluster/discovery.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import { contains, MANAGED_BY, SPEC_LABEL, withOwnership } from '../../src/cluster/plan.ts';
import { profileFor } from '../../src/flavors/index.ts';
import { render } from '../../src/render/index.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, EXAMPLES } from '../helpers/shared.ts';
import { adminClient, fakeOperators, get, list, OPERATOR_KINDS, R, requireCluster, runCli, specFile, waitUntil } from './helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

/** The examples of the flavours that need the upstream Istio APIs. */
const LABEL_INJECTED = EXAMPLES.filter((n) => profileFor(example(n).spec.mesh.flavor).api.networking === 'networking.istio.io/v1');

describe('apply of ossm3 / istio against a real kube-apiserver (upstream Istio CRDs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-flavours-'));
  let env: Record<string, string>;
  let c: KubeClient;
  let discovery: Discovery;
  let stopOperators: () => Promise<void>;
  const cli = (args: string[]) => runCli(args, { KUBECONFIG: env.KUBECONFIG });

  async function infoOf(o: KubeObject): Promise<ResourceInfo> {
    const info = await discovery.resolve(o.apiVersion, o.kind);
    assert.ok(info, `${o.apiVersion} ${o.kind} not served`);
    return info;
  }

  /** TLS material as apply stored it (so the render compares), read where the flavour puts the Secret. */
  async function renderLive(mesh: ServerlessMesh): Promise<KubeObject[]> {
    const ns = profileFor(mesh.spec.mesh.flavor).gateway.namespace(mesh.spec.mesh.namespace);
    const secret = mesh.spec.tls.generate ? await get(c, R.secret, ns, mesh.spec.tls.secretName) : undefined;
    assert.ok(!mesh.spec.tls.generate || secret, `TLS Secret ${ns}/${mesh.spec.tls.secretName} missing`);
    const data = secret?.data as Record<string, string> | undefined;
    const tls = data
      ? { certPem: Buffer.from(data['tls.crt']!, 'base64').toString(), keyPem: Buffer.from(data['tls.key']!, 'base64').toString() }
      : undefined;
    return render(mesh, tls ? { tls } : {});
  }

  async function assertApplied(mesh: ServerlessMesh): Promise<KubeObject[]> {
    const objects = await renderLive(mesh);
    for (const o of objects) {
      const live = await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name);
      assert.ok(live, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} missing`);
      assert.ok(contains(live, withOwnership(o, mesh.metadata.name)), `${o.kind} ${o.metadata.name}: live object lacks rendered fields`);
      assert.equal(live.metadata.labels?.[SPEC_LABEL], mesh.metadata.name);
      assert.equal(live.metadata.labels?.[MANAGED_BY], 'serverless-mesh');
    }
    return objects;
  }

  const allReady = async () => {
    for (const info of OPERATOR_KINDS) {
      for (const o of await list(c, info)) {
        const st = o.status as { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
        if (
          st?.observedGeneration !== (o.metadata as { generation?: number }).generation ||
          !st?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')
        )
          return false;
      }
    }
    return true;
  };

  before(async () => {
    requireCluster(); // the run's own apiserver proves the toolchain is installed
    const prev = process.env.SERVERLESS_MESH_TEST_CRDS;
    process.env.SERVERLESS_MESH_TEST_CRDS = 'upstream';
    try {
      env = await testEnv.start({ dir, controllerManager: false });
    } finally {
      if (prev === undefined) delete process.env.SERVERLESS_MESH_TEST_CRDS;
      else process.env.SERVERLESS_MESH_TEST_CRDS = prev;
    }
    c = adminClient(env.KUBECONFIG);
    discovery = new Discovery(c);
    stopOperators = fakeOperators(c);
  });
  after(async () => {
    await stopOperators?.();
    c?.close();
    await testEnv.stop({ dir, quiet: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('the examples of these flavours are ossm3-tenants and istio-tenants', () => {
    assert.deepEqual(LABEL_INJECTED, ['istio-tenants', 'ossm3-tenants']);
  });

  it('istio without istiod: one clear line, exit 3, nothing written', async () => {
    const res = await cli(['apply', '-f', 'examples/istio-tenants.yaml']);
    assert.equal(res.code, 3, res.stderr);
    assert.match(
      res.stderr,
      /Deployment istio-system\/istiod not found: the istio flavour uses the control plane you installed \(istioctl install or the istiod Helm chart\); install it first/,
    );
    assert.equal(res.stderr.split('\n').filter((l) => /istiod not found/.test(l)).length, 1, res.stderr);
    assert.doesNotMatch(res.stderr, /Namespaces \(\d+\)/, 'no phase ran');
    for (const info of [R.namespace, R.secret, R.ks]) assert.deepEqual(await list(c, info, `${SPEC_LABEL}=tenants`), [], info.kind);
    assert.equal(await get(c, R.namespace, undefined, 'team-alpha-1'), undefined);
  });

  it('ossm3-tenants: every object present with its fields, Istio/IstioCNI Ready (--wait); re-apply changes nothing; diff is empty', async () => {
    const first = await cli(['apply', '-f', 'examples/ossm3-tenants.yaml', '--wait', '60s']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /0 failed, 0 not applied/);
    assert.match(first.stderr, /Wait for Mesh control plane Ready/);
    const mesh = example('ossm3-tenants');
    const objects = await assertApplied(mesh);
    assert.ok(
      objects.some((o) => o.kind === 'Istio') &&
        objects.some((o) => o.kind === 'Deployment' && o.metadata.namespace === 'knative-serving-ingress'),
    );
    assert.ok(objects.some((o) => o.apiVersion === 'networking.istio.io/v1' && o.kind === 'Gateway'));
    await waitUntil('operator CRs Ready', allReady);

    const again = await cli(['apply', '-f', 'examples/ossm3-tenants.yaml']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      new RegExp(`0 applied, ${objects.length} unchanged`),
      'the certificate is read back from knative-serving-ingress, not regenerated',
    );
    const diff = await cli(['diff', '-f', 'examples/ossm3-tenants.yaml']);
    assert.equal(diff.code, 0, `diff after apply should be empty:\n${diff.stdout}\n${diff.stderr}`);
    assert.equal(diff.stdout, '');
  });

  it('ossm3 with networkPolicies: generate applies its NetworkPolicies; back to the default prunes them', async () => {
    const mesh = example('ossm3-tenants');
    mesh.spec.networkPolicies = 'generate';
    const res = await cli(['apply', '-f', specFile(mesh)]);
    assert.equal(res.code, 0, res.stderr);
    const np: ResourceInfo = {
      group: 'networking.k8s.io',
      version: 'v1',
      kind: 'NetworkPolicy',
      plural: 'networkpolicies',
      namespaced: true,
    };
    const want = (await renderLive(mesh)).filter((o) => o.kind === 'NetworkPolicy');
    assert.ok(want.length > 10);
    assert.equal((await list(c, np, `${SPEC_LABEL}=tenants`)).length, want.length);
    const back = await cli(['apply', '-f', 'examples/ossm3-tenants.yaml']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stderr, new RegExp(`${want.length} pruned`));
    assert.deepEqual(await list(c, np, `${SPEC_LABEL}=tenants`), []);
  });

  it('istio with istiod running: applies (a spec of its own name, same tenants)', async () => {
    await c.request('POST', resourcePath(R.deployment, 'istio-system'), {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'istiod', namespace: 'istio-system' },
        spec: {
          selector: { matchLabels: { app: 'istiod' } },
          template: { metadata: { labels: { app: 'istiod' } }, spec: { containers: [{ name: 'discovery', image: 'istio/pilot' }] } },
        },
      },
    });
    const mesh = example('istio-tenants');
    mesh.metadata.name = 'upstream';
    const res = await cli(['apply', '-f', specFile(mesh)]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /0 failed, 0 not applied/);
    const objects = await assertApplied(mesh);
    assert.ok(!objects.some((o) => o.apiVersion.startsWith('sailoperator.io/')), 'no sail-operator objects for upstream Istio');
    const diff = await cli(['diff', '-f', specFile(mesh)]);
    assert.equal(diff.code, 0, diff.stdout);
  });
});
