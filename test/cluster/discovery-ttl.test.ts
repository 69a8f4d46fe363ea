import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, type KubeClient } from '../../src/cluster/client.ts';
import { Discovery } from '../../src/cluster/discovery.ts';

/** A client answering discovery from a mutable table, counting requests. */
function fakeClient(served: Map<string, { name: string; kind: string; namespaced: boolean }[]>) {
  const calls: string[] = [];
  const client = {
    request: async (_m: string, path: string) => {
      await Promise.resolve();
      calls.push(path);
      const r = served.get(path);
      if (!r) throw new ApiError(404, { message: 'not found' }, 'GET', path);
      return { resources: r };
    },
  } as unknown as KubeClient;
  return { client, calls };
}

test('discovery: answers are cached until the TTL, then asked again', async () => {
  let now = 0;
  const served = new Map([['/apis/example.dev/v1', [{ name: 'widgets', kind: 'Widget', namespaced: true }]]]);
  const { client, calls } = fakeClient(served);
  const d = new Discovery(client, { ttlMs: 1000, missTtlMs: 100, now: () => now });
  assert.equal((await d.resolve('example.dev/v1', 'Widget'))?.plural, 'widgets');
  await d.resolve('example.dev/v1', 'Widget');
  assert.equal(calls.length, 1);
  now = 1500;
  await d.resolve('example.dev/v1', 'Widget');
  assert.equal(calls.length, 2);
});

test('discovery: "not served" is re-checked after the miss TTL (a CRD installed later is seen)', async () => {
  let now = 0;
  const served = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();
  const { client } = fakeClient(served);
  const d = new Discovery(client, { ttlMs: 60_000, missTtlMs: 100, now: () => now });
  assert.equal(await d.resolve('example.dev/v1', 'Widget'), undefined);
  served.set('/apis/example.dev/v1', [{ name: 'widgets', kind: 'Widget', namespaced: false }]);
  assert.equal(await d.resolve('example.dev/v1', 'Widget'), undefined, 'within the miss TTL the cached miss stands');
  now = 200;
  assert.equal((await d.resolve('example.dev/v1', 'Widget'))?.plural, 'widgets');
  // A new kind in a served group/version is seen after the miss TTL too.
  served.set('/apis/example.dev/v1', [
    { name: 'widgets', kind: 'Widget', namespaced: false },
    { name: 'gadgets', kind: 'Gadget', namespaced: false },
  ]);
  now = 400;
  assert.equal((await d.resolve('example.dev/v1', 'Gadget'))?.plural, 'gadgets');
});

test('discovery: invalidate() forgets everything; failed lookups are not cached', async () => {
  const served = new Map([['/apis/example.dev/v1', [{ name: 'widgets', kind: 'Widget', namespaced: true }]]]);
  const { client, calls } = fakeClient(served);
  const d = new Discovery(client);
  await d.resolve('example.dev/v1', 'Widget');
  d.invalidate();
  await d.resolve('example.dev/v1', 'Widget');
  assert.equal(calls.length, 2);
  let fail = true;
  const flaky = {
    request: async (_m: string, path: string) => {
      await Promise.resolve();
      if (fail) throw new Error('boom');
      return { resources: served.get(path) };
    },
  } as unknown as KubeClient;
  const d2 = new Discovery(flaky);
  await assert.rejects(d2.resolve('example.dev/v1', 'Widget'), /boom/);
  fail = false;
  assert.equal((await d2.resolve('example.dev/v1', 'Widget'))?.plural, 'widgets');
});
