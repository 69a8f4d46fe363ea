/**
 * reconcile() reading what is live from the controller's informer cache (OwnedCache), on an apiserver of
 * this file's own (a controller process elsewhere in the run would reconcile this CR too). Every request
 * is recorded: a no-op reconcile lists nothing and writes nothing; an owned object deleted or edited by
 * hand is repaired by applying that one object; a removed tenant is pruned from the cache's view; a kind
 * the cache watches at another version than the render's makes the reconcile list instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, type KubeClient } from '../../src/cluster/client.ts';
import { Discovery } from '../../src/cluster/discovery.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import { FIELD_MANAGER, MANAGED_BY, SPEC_LABEL, objectKey } from '../../src/cluster/plan.ts';
import { CR_RESOURCE } from '../../src/controller/crd.ts';
import { OwnedCache } from '../../src/controller/owned-cache.ts';
import { specFromCr } from '../../src/controller/spec.ts';
import { render } from '../../src/render/index.ts';
import { reconcile, type Condition, type ReconcileContext, type ReconcileResult } from '../../src/controller/reconcile.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import {
  R,
  adminClient,
  fakeOperators,
  get,
  isDiscoveryPath,
  list,
  recordingClient,
  requireCluster,
  waitUntil,
  type RecordingClient,
} from './helpers.ts';
import { installCrd } from './controller-helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

const NAME = 'cached';
const spec = (tenants: { name: string; namespaces: string[] }[]) => ({
  apiVersion: 'serverlessmesh.dev/v1alpha1',
  kind: 'ServerlessMesh',
  metadata: { name: NAME },
  spec: { mesh: { flavor: 'ossm2' }, domain: 'apps.cached.example.com', tenants },
});
const TENANTS = [
  { name: 'alpha', namespaces: ['cc-alpha-1', 'cc-alpha-2'] },
  { name: 'bravo', namespaces: ['cc-bravo-1'] },
];

// Discovery and named objects are not lists.
const isList = (c: { method: string; path: string }) =>
  c.method === 'GET' && !isDiscoveryPath(c.path) && /^\/(api\/v1|apis\/[^/]+\/[^/]+)(\/namespaces\/[^/]+)?\/[a-z]+$/.test(c.path);
const writes = (calls: RecordingClient['calls']) => calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);

describe('reconcile from the informer cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-ctl-cache-'));
  let admin: KubeClient;
  let rec: RecordingClient;
  let stopOperators: () => Promise<void>;
  let cache: OwnedCache;
  let foreign: OwnedCache;
  let ctx: ReconcileContext;
  const changed: (string | undefined)[] = [];

  const applyCr = (body: KubeObject) =>
    admin.request('PATCH', resourcePath(CR_RESOURCE, undefined, NAME), {
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'test-user', force: true },
    });
  const ready = (r: ReconcileResult) => r.status?.conditions.find((c: Condition) => c.type === 'Ready')?.status === 'True';
  /** Reconciles until Ready (the stand-in operators mark KnativeServing Ready a moment after it is applied). */
  async function converge(): Promise<ReconcileResult> {
    let last: ReconcileResult = {};
    await waitUntil(
      'Ready',
      async () => {
        last = await reconcile(ctx, NAME);
        assert.equal(last.error, undefined, last.error);
        return ready(last);
      },
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(last.status?.conditions)}`);
    });
    return last;
  }

  before(async () => {
    requireCluster();
    const env = (await testEnv.start({ dir, controllerManager: false })) as Record<string, string>;
    admin = adminClient(env.KUBECONFIG);
    rec = recordingClient(env.KUBECONFIG);
    await installCrd(admin);
    stopOperators = fakeOperators(admin);
    const discovery = new Discovery(rec);
    cache = new OwnedCache(rec, discovery, { labelSelector: `${MANAGED_BY}=${FIELD_MANAGER}`, onChange: (s) => changed.push(s) });
    foreign = new OwnedCache(rec, discovery, { labelSelector: `${MANAGED_BY}!=${FIELD_MANAGER}`, keepBodies: false, onChange: () => {} });
    ctx = {
      s: { client: rec, discovery },
      event: async () => {},
      verifyCache: new Map(),
      cache,
      foreign,
      desired: new Map(),
      pendingRequeueMs: 200,
    };
    await applyCr(spec(TENANTS));
  });
  after(async () => {
    await cache?.stop();
    await foreign?.stop();
    await stopOperators?.();
    admin?.close();
    rec?.close();
    await testEnv.stop({ dir, quiet: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('converges; a no-op reconcile then lists nothing and writes nothing, and reuses verify', async () => {
    const first = await converge();
    assert.ok(first.status!.objects > 10);
    assert.ok(cache.size >= first.status!.objects, `cache holds ${cache.size} of ${first.status!.objects}`);
    // The stand-in operators' status writes gave some objects a new resourceVersion: this pass compares
    // their bodies (a full pass, still nothing listed or written); the one after answers from memory.
    for (const pass of ['compare', 'memory']) {
      rec.calls.length = 0;
      const r = await reconcile(ctx, NAME);
      assert.ok(ready(r));
      assert.equal(r.verifyCached, true, pass);
      if (pass === 'memory') assert.equal(r.fromMemory, true, 'nothing changed: answered from the cache without rendering');
      assert.deepEqual(writes(rec.calls), [], pass);
      assert.deepEqual(
        rec.calls.filter(isList).map((c) => c.path),
        [],
        pass,
      );
    }
  });

  it('an owned AuthorizationPolicy deleted by hand: the next reconcile applies that one object, lists nothing, and reuses verify', async () => {
    const [ap] = (await list(admin, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((o) => o.metadata.namespace === 'cc-bravo-1');
    assert.ok(ap, 'an AuthorizationPolicy in cc-bravo-1');
    const key = objectKey(ap);
    changed.length = 0;
    await admin.request('DELETE', resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name));
    await waitUntil('the cache saw the deletion', () => Promise.resolve(cache.digest(key) === undefined && changed.includes(NAME)));
    rec.calls.length = 0;
    const r = await reconcile(ctx, NAME);
    assert.ok(ready(r));
    assert.equal(r.fromMemory, undefined, 'an object is missing: the full pass');
    assert.equal(r.verifyCached, true, 'the restored object has the content verify saw before');
    assert.deepEqual(writes(rec.calls), [`PATCH ${resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name)}`]);
    assert.deepEqual(
      rec.calls.filter(isList).map((c) => c.path),
      [],
    );
    assert.deepEqual((await get(admin, R.ap, ap.metadata.namespace, ap.metadata.name))?.spec, ap.spec);
    // Our own write's watch event changes nothing: the next pass is from memory again.
    await sleep(300);
    assert.equal((await reconcile(ctx, NAME)).fromMemory, true);
  });

  it('a field we own edited with kubectl: seen through the watch, taken back by a forced apply of that object', async () => {
    const [ap] = (await list(admin, R.ap, `${SPEC_LABEL}=${NAME}`)).filter((o) => o.metadata.namespace === 'cc-alpha-1');
    assert.ok(ap);
    const key = objectKey(ap);
    const before = cache.digest(key);
    await admin.request('PATCH', resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name), {
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'kubectl-edit' },
      // A list we render (the rules), replaced by a merge patch: kubectl edit's Update takes over its ownership.
      body: { spec: { rules: [{ from: [{ source: { namespaces: ['cc-bravo-1'] } }] }] } },
    });
    await waitUntil('the cache saw the edit', () => Promise.resolve(cache.digest(key) !== before));
    rec.calls.length = 0;
    const r = await reconcile(ctx, NAME);
    assert.ok(ready(r), JSON.stringify(r.status?.conditions));
    const path = resourcePath(R.ap, ap.metadata.namespace, ap.metadata.name);
    // The plain apply conflicts with kubectl-edit's ownership (409); the forced one takes the field back.
    assert.deepEqual(writes(rec.calls), [`PATCH ${path}`, `PATCH ${path}`]);
    assert.deepEqual(
      rec.calls.filter((c) => c.method === 'PATCH').map((c) => [c.failed ?? false, c.query?.force ?? false]),
      [
        [true, false],
        [false, true],
      ],
    );
    assert.equal(rec.calls.filter(isList).length, 0);
    assert.deepEqual((await get(admin, R.ap, ap.metadata.namespace, ap.metadata.name))?.spec, ap.spec);
    assert.equal(cache.digest(key), before, 'the answer of the forced apply is what the cache holds');
  });

  it("a policy of another owner changes verify's input: the fingerprint from the caches sees it", async () => {
    rec.calls.length = 0;
    const foreignAp = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'let-anyone-in', namespace: 'cc-alpha-1' },
      spec: { action: 'ALLOW', rules: [{}] },
    };
    await admin.request('PATCH', resourcePath(R.ap, 'cc-alpha-1', 'let-anyone-in'), {
      body: foreignAp,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'someone', force: true },
    });
    await waitUntil('the foreign cache has it', () =>
      Promise.resolve(foreign.digests().some(([k]) => k === objectKey(foreignAp as KubeObject))),
    );
    const r = await reconcile(ctx, NAME);
    assert.equal(r.verifyCached, false);
    const verified = r.status!.conditions.find((c) => c.type === 'Verified')!;
    assert.equal(verified.status, 'False', verified.message);
    await admin.request('DELETE', resourcePath(R.ap, 'cc-alpha-1', 'let-anyone-in'));
    await waitUntil('the foreign cache dropped it', () => Promise.resolve(foreign.digests().length === 0));
    const again = await reconcile(ctx, NAME);
    assert.ok(ready(again), JSON.stringify(again.status?.conditions));
  });
  it('a kind the cache watches at another version than the render: the reconcile lists, and is still a no-op', async () => {
    // Small pages: the lists continue (one snapshot across pages) and still hold every object.
    const other = new OwnedCache(rec, ctx.s.discovery, {
      labelSelector: `${MANAGED_BY}=${FIELD_MANAGER}`,
      onChange: () => {},
      pageSize: 3,
    });
    try {
      // ossm2 renders security.istio.io/v1beta1; this cache watches AuthorizationPolicies at v1.
      assert.equal(await other.ensure([{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' }]), true);
      rec.calls.length = 0;
      const r = await reconcile({ ...ctx, cache: other }, NAME);
      assert.ok(ready(r));
      assert.deepEqual(writes(rec.calls), []);
      assert.ok(
        rec.calls.some((c) => isList(c) && c.path.endsWith('/authorizationpolicies') && c.path.includes('/v1beta1/')),
        'listed at the render version',
      );
      assert.ok(
        rec.calls.some((c) => isList(c) && c.path === '/api/v1/namespaces' && c.query?.continue),
        'the watch of namespaces listed in pages',
      );
      assert.equal(other.countFor(NAME), cache.countFor(NAME));
      // AuthorizationPolicies read at v1 and at v1beta1: the same digests (the version is not content).
      assert.deepEqual(other.digests().sort(), cache.digests().sort());
    } finally {
      await other.stop();
    }
  });

  it('a tenant removed from the CR: exactly its objects are pruned, found in the cache', async () => {
    const bravo = await list(admin, R.ap, `${SPEC_LABEL}=${NAME}`).then((l) => l.filter((o) => o.metadata.namespace === 'cc-bravo-1'));
    assert.ok(bravo.length > 0);
    const fingerprint = ctx.verifyCache!.get(NAME)!.fingerprint;
    await applyCr(spec(TENANTS.slice(0, 1)));
    await converge();
    assert.notEqual(ctx.verifyCache!.get(NAME)!.fingerprint, fingerprint, 'verify ran again: its inputs changed');
    const after = await list(admin, R.ap, `${SPEC_LABEL}=${NAME}`);
    assert.equal(after.filter((o) => o.metadata.namespace === 'cc-bravo-1').length, 0);
    // Exactly what the spec renders now (bravo's objects elsewhere, e.g. in knative-serving, went too).
    const now = specFromCr((await get(admin, CR_RESOURCE, undefined, NAME))!);
    assert.ok(now.ok);
    const want = render(now.mesh)
      .filter((o) => o.kind === 'AuthorizationPolicy')
      .map(objectKey)
      .sort();
    assert.deepEqual(after.map(objectKey).sort(), want);
    // The namespace is released (our labels removed), not deleted.
    const ns = await get(admin, R.namespace, undefined, 'cc-bravo-1');
    assert.ok(ns);
    assert.equal(ns.metadata.labels?.[SPEC_LABEL], undefined);
  });
});
