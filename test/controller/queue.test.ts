import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue } from '../../src/controller/queue.ts';

test('work queue: a key is queued once and never handed to two workers; an add while processing comes back after done', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  q.add('a'); // while processing: remembered, not queued
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'b');
  q.done('a');
  assert.equal(await q.get(), 'a');
  q.shutdown();
  assert.equal(await q.get(), undefined);
});

test('work queue: per-key exponential backoff, capped, reset by forget', () => {
  const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => q.addRateLimited('a')),
    [100, 200, 400, 800, 1000],
  );
  assert.equal(q.addRateLimited('b'), 100, 'other keys have their own backoff');
  q.forget('a');
  assert.equal(q.addRateLimited('a'), 100);
  q.shutdown();
});

test('work queue: addAfter delivers the key later', async () => {
  const q = new WorkQueue();
  const keepAlive = setTimeout(() => {}, 5000); // the queue's timers are unref'd (the controller's server keeps the process up)
  q.addAfter('x', 30);
  assert.equal(q.length, 0);
  const t0 = Date.now();
  assert.equal(await q.get(), 'x');
  assert.ok(Date.now() - t0 >= 25);
  clearTimeout(keepAlive);
  q.shutdown();
});
