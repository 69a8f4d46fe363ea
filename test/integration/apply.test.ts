/**
 * apply / diff / delete against the real test apiserver (scripts/test-env.mjs), through the CLI as a
 * user runs it. Tests in this file run in order and share the cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contains, MANAGED_BY, SPEC_LABEL, withOwnership } from '../../src/cluster/plan.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import { render } from '../../src/render/index.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, EXAMPLES as ALL_EXAMPLES, TEST_TLS } from '../helpers/shared.ts';
import { profileFor } from '../../src/flavors/index.ts';
import {
  adminClient,
  cli,
  type CliResult,
  fakeOperators,
  get,
  list,
  markReady,
  R,
  requireCluster,
  runCli,
  specFile,
  waitUntil,
} from './helpers.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import { Discovery, type ResourceInfo } from '../../src/cluster/discovery.ts';

/**
 * `diff` reached the cluster and compared: exit 0, or exit 1 (differences) with a unified diff on
 * stdout. Cluster problems exit 3, bad input 2 (src/cli/exit-codes.ts).
 */
function assertDiffRan(res: CliResult, what: string): void {
  assert.ok(res.code === 0 || (res.code === 1 && /^--- .*\n\+\+\+ /m.test(res.stdout)), `${what}: exit ${res.code}: ${res.stderr}`);
  assert.equal(res.stderr, '', `${what}: ${res.stderr}`);
}

// The shared apiserver serves the Maistra 2.5 Istio APIs (no networking.istio.io/v1): the ossm3 / istio
// examples are applied by apply-flavours.test.ts, on an apiserver of its own with the upstream Istio CRDs.
const EXAMPLES = ALL_EXAMPLES.filter((n) => profileFor(example(n).spec.mesh.flavor).api.networking !== 'networking.istio.io/v1');

let discovery: Discovery;
async function infoOf(o: KubeObject): Promise<ResourceInfo> {
  const info = await discovery.resolve(o.apiVersion, o.kind);
  assert.ok(info, `${o.apiVersion} ${o.kind} not served`);
  return info;
}

/** resourceVersion of every object, by ref. */
async function versions(c: KubeClient, objects: KubeObject[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const o of objects) {
    const live = await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name);
    out.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, live?.metadata.resourceVersion as string);
  }
  return out;
}

function tenantsSpec(name: string, tenants: { name: string; namespaces: string[] }[]): ServerlessMesh {
  const m = structuredClone(example('ossm2-tenants'));
  m.metadata.name = name;
  m.spec.tenants = tenants;
  return m;
}

describe('apply against a real kube-apiserver', () => {
  let c: KubeClient;
  let stopOperators: () => Promise<void>;

  before(() => {
    requireCluster();
    c = adminClient();
    discovery = new Discovery(c);
    stopOperators = fakeOperators(c);
  });
  after(async () => {
    await stopOperators?.();
    c?.close();
  });

  for (const name of EXAMPLES) {
    it(`${name}: every rendered object is present with its fields; re-apply changes nothing; diff is empty`, async () => {
      const path = `examples/${name}.yaml`;
      const first = await runCli(['apply', '-f', path]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /0 failed, 0 not applied/);

      const mesh = example(name);
      // TLS comes from the cluster now (apply generated it); everything else is deterministic.
      const secretName = mesh.spec.tls.secretName;
      const secret = mesh.spec.tls.generate ? await get(c, R.secret, mesh.spec.mesh.namespace, secretName) : undefined;
      const tls = secret
        ? {
            certPem: Buffer.from((secret.data as Record<string, string>)['tls.crt']!, 'base64').toString(),
            keyPem: Buffer.from((secret.data as Record<string, string>)['tls.key']!, 'base64').toString(),
          }
        : undefined;
      const objects = render(mesh, tls ? { tls } : {});
      for (const o of objects) {
        const live = await get(c, await infoOf(o), o.metadata.namespace, o.metadata.name);
        assert.ok(live, `${o.kind} ${o.metadata.namespace}/${o.metadata.name} missing`);
        assert.ok(contains(live, withOwnership(o, mesh.metadata.name)), `${o.kind} ${o.metadata.name}: live object lacks rendered fields`);
        assert.equal(live.metadata.labels?.[MANAGED_BY], 'serverless-mesh');
        assert.equal(live.metadata.labels?.[SPEC_LABEL], mesh.metadata.name);
        const managers = (live.metadata.managedFields as { manager: string; operation: string }[]).filter((f) => f.operation === 'Apply');
        assert.ok(
          managers.some((f) => f.manager === 'serverless-mesh'),
          `${o.kind} ${o.metadata.name}: not applied by field manager serverless-mesh`,
        );
      }

      // The stand-in operators write status (a new resourceVersion): let them finish before comparing.
      await waitUntil('operator CRs Ready', async () => {
        for (const info of [R.smcp, R.smmr, R.ks, R.ke, R.kk]) {
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
      });
      const before = await versions(c, objects);
      const again = await runCli(['apply', '-f', path]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, new RegExp(`0 applied, ${objects.length} unchanged`));
      assert.deepEqual(await versions(c, objects), before, 'resourceVersion changed on an unchanged re-apply');

      const diff = await runCli(['diff', '-f', path]);
      assert.equal(diff.code, 0, `diff after apply should be empty:\n${diff.stdout}\n${diff.stderr}`);
      assert.equal(diff.stdout, '');
    });
  }

  it('diff shows what a changed spec would do, as unified diffs, and exits 1; no key material in it', async () => {
    const mesh = tenantsSpec('diffspec', [{ name: 'dt-alpha', namespaces: ['dt-alpha-1'] }]);
    const path = specFile(mesh);
    assert.equal((await runCli(['apply', '-f', path])).code, 0);
    mesh.spec.tenants.push({ name: 'dt-bravo', namespaces: ['dt-bravo-1'] });
    const res = await runCli(['diff', '-f', specFile(mesh)]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stdout, /^--- \/dev\/null\n\+\+\+ applied\/v1\/Namespace\/dt-bravo-1\n@@ /m);
    assert.match(
      res.stdout,
      /\+\+\+ applied\/security\.istio\.io\/v1beta1\/AuthorizationPolicy\/knative-serving\/allow-dt-bravo-to-activator/,
    );
    assert.doesNotMatch(res.stdout, /BEGIN (RSA )?PRIVATE KEY|tls\.key: [A-Za-z0-9+/]{20}/);
    // Nothing was written.
    assert.equal(await get(c, R.namespace, undefined, 'dt-bravo-1'), undefined);
  });

  it('prune: removing a tenant deletes exactly its policies, releases its namespaces, leaves unlabelled lookalikes', async () => {
    const two = tenantsSpec('prunespec', [
      { name: 'pt-alpha', namespaces: ['pt-alpha-1', 'pt-alpha-2'] },
      { name: 'pt-bravo', namespaces: ['pt-bravo-1', 'pt-bravo-2'] },
    ]);
    assert.equal((await runCli(['apply', '-f', specFile(two)])).code, 0);
    // Same kind, same name pattern, but not ours (no labels / only one of them).
    const lookalikes: KubeObject[] = [
      {
        apiVersion: 'security.istio.io/v1beta1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'allow-pt-charlie-to-activator', namespace: 'knative-serving' },
        spec: {},
      },
      {
        apiVersion: 'security.istio.io/v1beta1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'allow-from-knative-and-istio-copy', namespace: 'pt-bravo-1', labels: { [SPEC_LABEL]: 'prunespec' } },
        spec: {},
      },
    ];
    for (const l of lookalikes) await c.request('POST', resourcePath(R.ap, l.metadata.namespace), { body: l });

    const dummy = { tls: TEST_TLS };
    const apsOf = (m: ServerlessMesh) =>
      new Set(
        render(m, dummy)
          .filter((o) => o.kind === 'AuthorizationPolicy')
          .map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
      );
    const one = tenantsSpec('prunespec', [two.spec.tenants[0]!]);
    const expectedGone = [...apsOf(two)].filter((k) => !apsOf(one).has(k));
    assert.ok(expectedGone.length > 5);

    const beforeAll = new Set((await list(c, R.ap)).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
    // diff previews the release exactly as apply does it (a dry-run of the same apply).
    const preview = await runCli(['diff', '-f', specFile(one)]);
    assert.equal(preview.code, 1, preview.stderr);
    const nsDiff = preview.stdout.split(/^(?=--- )/m).find((d) => d.startsWith('--- live/v1/Namespace/pt-bravo-1'));
    assert.ok(nsDiff, preview.stdout);
    const removedLabels = [...nsDiff.matchAll(/^-\s+"?([\w./-]+)"?: /gm)].map((m) => m[1] as string);
    const nsBefore = (await get(c, R.namespace, undefined, 'pt-bravo-1'))!;
    const res = await runCli(['apply', '-f', specFile(one)]);
    assert.equal(res.code, 0, res.stderr);
    const afterAll = new Set((await list(c, R.ap)).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
    const gone = [...beforeAll].filter((k) => !afterAll.has(k)).sort();
    assert.deepEqual(gone, expectedGone.sort());
    for (const l of lookalikes) assert.ok(afterAll.has(`${l.metadata.namespace}/${l.metadata.name}`), `${l.metadata.name} was touched`);
    assert.match(res.stderr, new RegExp(`${expectedGone.length} pruned, 2 namespaces released`));
    // Tenant namespaces hold workloads we never created: they stay, without our labels.
    const ns = await get(c, R.namespace, undefined, 'pt-bravo-1');
    assert.ok(ns && !ns.metadata.labels?.[MANAGED_BY] && !ns.metadata.labels?.[SPEC_LABEL]);
    // The labels and annotations diff showed as removed are exactly those apply removed.
    const keysOf = (o: KubeObject) => Object.keys({ ...o.metadata.labels, ...o.metadata.annotations });
    const actuallyRemoved = keysOf(nsBefore)
      .filter((k) => !keysOf(ns).includes(k))
      .sort();
    assert.ok(actuallyRemoved.includes('serverlessmesh.dev/tenant'), actuallyRemoved.join(', '));
    assert.deepEqual([...new Set(removedLabels.filter((k) => keysOf(nsBefore).includes(k)))].sort(), actuallyRemoved, nsDiff);
    assert.ok((await get(c, R.namespace, undefined, 'pt-alpha-1'))?.metadata.labels?.[MANAGED_BY]);
  });

  it('changing spec.mesh.namespace (moving Serverless to another mesh) is refused before any write', async () => {
    const first = tenantsSpec('movespec', [{ name: 'mv-alpha', namespaces: ['mv-alpha-1'] }]);
    assert.equal((await runCli(['apply', '-f', specFile(first)])).code, 0);
    const moved = structuredClone(first);
    moved.spec.mesh.namespace = 'other-mesh';
    const before = await list(c, R.smcp);
    const res = await runCli(['apply', '-f', specFile(moved)]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(
      res.stderr,
      /refusing to move OpenShift Serverless from ServiceMeshControlPlane istio-system\/basic to other-mesh\/basic: changing the mesh it is part of is not supported/,
    );
    // generation, not resourceVersion: the stand-in operators keep writing status.
    const shape = (l: KubeObject[]) =>
      l.map((o) => `${o.metadata.namespace}/${o.metadata.name}@${(o.metadata as { generation?: number }).generation}`).sort();
    assert.deepEqual(shape(await list(c, R.smcp)), shape(before));
    assert.equal(await get(c, R.namespace, undefined, 'other-mesh'), undefined, 'nothing written: not even the new namespace');
  });

  it('conflict with another field manager: clear error, then --force-conflicts takes over', async () => {
    const mesh = tenantsSpec('conflictspec', [{ name: 'cf-alpha', namespaces: ['cf-alpha-1'] }]);
    const path = specFile(mesh);
    assert.equal((await runCli(['apply', '-f', path])).code, 0);
    // Someone else applies a different value to a field we own.
    await c.request('PATCH', resourcePath(R.ap, 'cf-alpha-1', 'allow-wait-for-drain'), {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'someone-else', force: true },
      body: {
        apiVersion: 'security.istio.io/v1beta1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'allow-wait-for-drain', namespace: 'cf-alpha-1' },
        spec: { action: 'DENY' },
      },
    });
    const res = await runCli(['apply', '-f', path]);
    assert.equal(res.code, 3, res.stderr);
    // The failure summary is printed once (not again as the final error line).
    assert.equal(res.stderr.match(/allow-wait-for-drain: conflict \(409\)/g)?.length, 1, res.stderr);
    assert.match(
      res.stderr,
      /AuthorizationPolicy\/cf-alpha-1\/allow-wait-for-drain: conflict \(409\): \.spec\.action owned by "someone-else"; re-run with --force-conflicts/,
    );
    assert.match(res.stderr, /1 failed/);
    const forced = await runCli(['apply', '-f', path, '--force-conflicts']);
    assert.equal(forced.code, 0, forced.stderr);
    const live = await get(c, R.ap, 'cf-alpha-1', 'allow-wait-for-drain');
    assert.equal((live!.spec as { action: string }).action, 'ALLOW');
  });

  it('403: names the verb and resource the user lacks; summary says nothing was applied', async () => {
    // The limited user may read everything but write nothing.
    await c.request('PATCH', '/apis/rbac.authorization.k8s.io/v1/clusterroles/sm-test-read', {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'test', force: true },
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'sm-test-read' },
        rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await c.request('PATCH', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/sm-test-read', {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'test', force: true },
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'sm-test-read' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sm-test-read' },
        subjects: [{ kind: 'User', name: 'limited', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    const mesh = tenantsSpec('forbiddenspec', [{ name: 'fb-alpha', namespaces: ['fb-alpha-1'] }]);
    const limited = process.env.SERVERLESS_MESH_TEST_KUBECONFIG_LIMITED!;
    let res = await runCli(['apply', '-f', specFile(mesh), '--kubeconfig', limited]);
    for (let i = 0; i < 20 && /cannot (list|get)/.test(res.stderr); i++)
      res = await runCli(['apply', '-f', specFile(mesh), '--kubeconfig', limited]); // RBAC cache
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /Namespace\/fb-alpha-1: forbidden \(403\): missing permission to patch namespaces/);
    assert.match(res.stderr, /0 applied, \d+ unchanged, 0 pruned, 0 namespaces released, \d+ failed, \d+ not applied/);
    assert.equal(await get(c, R.namespace, undefined, 'fb-alpha-1'), undefined);
  });

  it('readiness: AuthorizationPolicies wait for KnativeServing Ready (status set as the operator would)', async () => {
    await stopOperators();
    stopOperators = async () => {};
    const mesh = tenantsSpec('readyspec', [{ name: 'rd-alpha', namespaces: ['rd-alpha-1'] }]);
    // The KnativeServing exists from earlier tests; make it not Ready, as during an upgrade.
    await markReady(c, R.ks, 'knative-serving', 'knative-serving', false);
    const run = cli(['apply', '-f', specFile(mesh)]);
    await waitUntil('namespaces applied', async () => !!(await get(c, R.namespace, undefined, 'rd-alpha-1')));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(run.child.exitCode, null, 'apply finished without waiting for KnativeServing');
    const early = (await list(c, R.ap, `${SPEC_LABEL}=readyspec`)).length;
    assert.equal(early, 0, 'AuthorizationPolicies applied before KnativeServing was Ready');
    await markReady(c, R.ks, 'knative-serving', 'knative-serving', true);
    const res = await run.done;
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /Wait for KnativeServing Ready before AuthorizationPolicies: Ready after/);
    // Not a silent wait: stderr (not a terminal here) said what it waits for and why, before waiting.
    assert.match(
      res.stderr,
      /Wait for KnativeServing Ready before AuthorizationPolicies: KnativeServing\/knative-serving\/knative-serving must be Ready first: a deny-all policy before the sidecars know the allow rules cuts the activator off the autoscaler \(waits up to 600 s; --wait=DURATION sets the limit\)/,
    );
    assert.ok((await list(c, R.ap, `${SPEC_LABEL}=readyspec`)).length > 5);
  });

  it('--wait=TIMEOUT: a control plane that never gets Ready fails with its conditions', async () => {
    await markReady(c, R.smcp, 'istio-system', 'basic', false);
    const mesh = tenantsSpec('waitspec', [{ name: 'wt-alpha', namespaces: ['wt-alpha-1'] }]);
    const res = await runCli(['apply', '-f', specFile(mesh), '--wait=2s']);
    assert.equal(res.code, 3, res.stderr);
    assert.equal(res.stderr.match(/timed out after 2 s waiting for Ready/g)?.length, 1, `the failure is printed once:\n${res.stderr}`);
    assert.match(
      res.stderr,
      /timed out after 2 s waiting for Ready: ServiceMeshControlPlane\/istio-system\/basic: Ready=False \(Installing: test says not yet\)/,
    );
    assert.match(res.stderr, /\d+ not applied/);
    await markReady(c, R.smcp, 'istio-system', 'basic', true);
  });

  it('delete -f removes every labelled object of the spec and releases its namespaces', async () => {
    const mesh = tenantsSpec('readyspec', [{ name: 'rd-alpha', namespaces: ['rd-alpha-1'] }]);
    const lookalike: KubeObject = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'not-ours', namespace: 'rd-alpha-1' },
      spec: {},
    };
    await c.request('POST', resourcePath(R.ap, 'rd-alpha-1'), { body: lookalike });
    const res = await runCli(['delete', '-f', specFile(mesh)]);
    assert.equal(res.code, 0, res.stderr);
    for (const info of [R.ap, R.ks, R.ke, R.smcp, R.smmr, R.gateway, R.secret]) {
      assert.deepEqual(await list(c, info, `${SPEC_LABEL}=readyspec`), [], `${info.kind} left behind`);
    }
    assert.ok(await get(c, R.ap, 'rd-alpha-1', 'not-ours'));
    assert.ok(await get(c, R.namespace, undefined, 'rd-alpha-1'));
  });

  it('--dry-run=server: the server admits everything it can check, nothing is stored', async () => {
    const mesh = tenantsSpec('dryspec', [{ name: 'dr-alpha', namespaces: ['dr-alpha-1'] }]);
    const res = await runCli(['apply', '-f', specFile(mesh), '--dry-run=server']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /accepted \(dry run\)/);
    assert.match(res.stderr, /^dry run: \d+ applied/m);
    // dr-alpha-1 does not exist, so its namespaced objects cannot be admitted: said, not failed.
    assert.match(res.stderr, /not checked by the server \(their namespace does not exist yet\): [1-9]\d* objects/);
    assert.equal(await get(c, R.namespace, undefined, 'dr-alpha-1'), undefined);
    assert.deepEqual(await list(c, R.ap, `${SPEC_LABEL}=dryspec`), []);
  });

  it('kubeconfig credentials from a tokenFile and from an exec plugin (handed to client-node) authenticate', async () => {
    const text = readFileSync(process.env.KUBECONFIG!, 'utf8');
    const token = /token: (\S+)/.exec(text)![1]!;
    const d = mkdtempSync(join(tmpdir(), 'sm-kc-'));
    writeFileSync(join(d, 'token'), `${token}\n`, { mode: 0o600 });
    writeFileSync(
      join(d, 'plugin.mjs'),
      `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: ${JSON.stringify(token)} } }));`,
    );
    const variants = {
      tokenFile: '      tokenFile: token',
      exec: `      exec:\n        apiVersion: client.authentication.k8s.io/v1beta1\n        command: ${process.execPath}\n        args: [${join(d, 'plugin.mjs')}]`,
      wrong: '      token: not-a-valid-token',
    };
    for (const [name, user] of Object.entries(variants)) {
      const kc = join(d, `kubeconfig-${name}`);
      writeFileSync(kc, text.replace(/ {6}token: \S+/, user));
      const res = await runCli(['diff', '-f', 'examples/ossm2-basic.yaml', '--kubeconfig', kc]);
      if (name === 'wrong') {
        assert.equal(res.code, 3, res.stderr);
        assert.match(res.stderr, /401|Unauthorized|unauthori[sz]ed/i);
      } else {
        assertDiffRan(res, name);
      }
    }
  });

  it('kubeconfig handling: --context, a missing context, no kubeconfig at all, an unreachable cluster', async () => {
    const ok = await runCli(['diff', '-f', 'examples/ossm2-basic.yaml', '--context', 'test-env']);
    assertDiffRan(ok, '--context test-env');
    const bad = await runCli(['diff', '-f', 'examples/ossm2-basic.yaml', '--context', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^--context nope: no such context \(have: test-env\)$/m);
    const none = await runCli(['apply', '-f', 'examples/ossm2-basic.yaml'], {
      KUBECONFIG: '',
      HOME: mkdtempSync(join(tmpdir(), 'sm-home-')),
    });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^no kubeconfig: pass --kubeconfig, set \$KUBECONFIG, or create ~\/\.kube\/config$/m);
    // A port nobody listens on.
    const dead = join(mkdtempSync(join(tmpdir(), 'sm-kc-')), 'kubeconfig');
    writeFileSync(
      dead,
      readFileSync(process.env.KUBECONFIG!, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:9'),
    );
    const t0 = Date.now();
    const unreachable = await runCli(['apply', '-f', 'examples/ossm2-basic.yaml', '--kubeconfig', dead]);
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /^cluster https:\/\/127\.0\.0\.1:9 unreachable: connect ECONNREFUSED/m);
    // diff: 1 means "differences"; a cluster it cannot reach is 3, with nothing on stdout.
    const diffDead = await runCli(['diff', '-f', 'examples/ossm2-basic.yaml', '--kubeconfig', dead]);
    assert.equal(diffDead.code, 3, diffDead.stderr);
    assert.equal(diffDead.stdout, '');
    assert.match(diffDead.stderr, /^cluster https:\/\/127\.0\.0\.1:9 unreachable/m);
    assert.ok(Date.now() - t0 < 20_000, 'took too long to give up');
  });
});
