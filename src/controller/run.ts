// `serverless-mesh controller run`: leader election, watches (the CR; owned kinds by the managed-by
// label only), a work queue with per-key backoff, workers calling reconcile(), /healthz /readyz /metrics.
import http from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KubeClient } from '../cluster/client.ts';
import { sleep } from '../cluster/client.ts';
import type { ClusterSession } from '../cluster/engine.ts';
import { FIELD_MANAGER, MANAGED_BY } from '../cluster/plan.ts';
import { OwnedCache } from './owned-cache.ts';
import { POLICY_KINDS } from './reconcile.ts';
import { CR_RESOURCE } from './crd.ts';
import { LeaderElector } from './leader.ts';
import { WorkQueue } from './queue.ts';
import { reconcile, type Condition, type DesiredIndex, type EventSink } from './reconcile.ts';
import { Watcher } from './watch.ts';

export interface ControllerOptions {
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  /** How long a Lease holds without renewal (client-go's LeaseDuration; default 15 s). */
  leaseDurationS?: number;
  identity?: string;
  /** host:port of /healthz, /readyz, /metrics. */
  listen: string;
  workers: number;
  resyncMs: number;
  eventNamespace: string;
  log?: (line: string) => void;
}

export interface Metrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  errors: Counter;
  duration: Histogram;
  depth: Gauge;
  leader: Gauge;
}

export function newMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'serverless_mesh_' });
  return {
    registry,
    reconciles: new Counter({
      name: 'serverless_mesh_reconcile_total',
      help: 'Reconciles by result (ready, progressing, degraded, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'serverless_mesh_reconcile_errors_total',
      help: 'Reconciles that ended in an error (retried with backoff).',
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'serverless_mesh_reconcile_duration_seconds',
      help: 'Time per reconcile.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    depth: new Gauge({ name: 'serverless_mesh_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [registry] }),
    leader: new Gauge({ name: 'serverless_mesh_leader', help: '1 while this replica holds the Lease.', registers: [registry] }),
  };
}

/** Events on the CR (cluster-scoped objects' Events live in eventNamespace). */
function eventSink(client: KubeClient, namespace: string): EventSink {
  return async (cr, type, reason, message) => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      await client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${cr.metadata.name}.`, namespace },
          involvedObject: { apiVersion: cr.apiVersion, kind: cr.kind, name: cr.metadata.name, uid: (cr.metadata as { uid?: string }).uid },
          reason,
          message: message.slice(0, 1024) || reason,
          type,
          source: { component: 'serverless-mesh-controller' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch {
      // Events are best effort.
    }
  };
}

function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i) || '0.0.0.0', port: Number(listen.slice(i + 1)) };
}

/** Runs until SIGTERM/SIGINT (resolves) or the Lease is lost (rejects: the process restarts, as controller-runtime does). */
export async function runController(s: ClusterSession, o: ControllerOptions): Promise<void> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const metrics = newMetrics();
  const identity = o.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  let synced = false;
  let standby = o.leaderElect;
  let stopping = false;

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/healthz') return void res.writeHead(200).end('ok\n');
    if (url === '/readyz') return void (synced || standby ? res.writeHead(200).end('ok\n') : res.writeHead(503).end('not synced\n'));
    if (url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500).end(e.message),
      );
      return;
    }
    res.writeHead(404).end();
  });
  const { host, port } = parseListen(o.listen);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  const addr = server.address();
  log(
    `controller ${identity}: serving /healthz /readyz /metrics on ${typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : o.listen}`,
  );

  const stopped = new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`controller: ${sig}, stopping`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

  const elector = o.leaderElect
    ? new LeaderElector(s.client, { namespace: o.leaseNamespace, name: o.leaseName, identity, leaseDurationS: o.leaseDurationS })
    : undefined;
  try {
    if (elector) {
      log(`controller ${identity}: waiting for Lease ${o.leaseNamespace}/${o.leaseName}`);
      let announced = false;
      while (!stopping) {
        let got = false;
        try {
          got = await elector.tryAcquireOrRenew();
        } catch (e) {
          log(`controller: leader election: ${(e as Error).message}`);
        }
        if (got) break;
        if (!announced) log(`controller ${identity}: standby (another replica holds the Lease)`);
        announced = true;
        await Promise.race([sleep(Math.min(2000, elector.leaseDurationMs / 3)), stopped]);
      }
      if (stopping) return;
      standby = false;
      metrics.leader.set(1);
      log(`controller ${identity}: leading (Lease ${o.leaseNamespace}/${o.leaseName})`);
    }

    const queue = new WorkQueue();
    const lastGen = new Map<string, number>();
    const verifyCache = new Map<string, { fingerprint: string; condition: Condition }>();
    const desired = new Map<string, DesiredIndex>();
    const enqueue = (name: string | undefined) => {
      if (name) queue.add(name);
      metrics.depth.set(queue.length);
    };
    const watchers: Watcher[] = [];
    const onError = (what: string) => (e: unknown) => log(`controller: watch ${what}: ${(e as Error).message}`);
    watchers.push(
      new Watcher(s.client, CR_RESOURCE, {
        onEvent: (type, cr) => {
          const gen = (cr.metadata as { generation?: number }).generation ?? 0;
          const del = !!(cr.metadata as { deletionTimestamp?: string }).deletionTimestamp;
          // Status writes (ours) do not change the generation: no reconcile for them.
          if (type === 'DELETED') {
            lastGen.delete(cr.metadata.name);
            verifyCache.delete(cr.metadata.name);
            desired.delete(cr.metadata.name);
          } else if (!del && lastGen.get(cr.metadata.name) === gen && type !== 'SYNC') return;
          lastGen.set(cr.metadata.name, gen);
          enqueue(cr.metadata.name);
        },
        onList: (relist) => {
          if (relist) log('controller: ServerlessMesh watch relisted (410 Gone)');
        },
        onError: onError(CR_RESOURCE.plural),
      }),
    );
    // Our objects, by the managed-by label only (never an unfiltered watch: Secrets of the whole cluster).
    // Watches start with the first reconcile, at the versions it renders (OwnedCache.ensure).
    const cache = new OwnedCache(s.client, s.discovery, {
      labelSelector: `${MANAGED_BY}=${FIELD_MANAGER}`,
      onChange: enqueue,
      log,
    });
    // Policies not ours still decide who reaches whom (verify reads them): a change re-verifies every CR.
    const foreign = new OwnedCache(s.client, s.discovery, {
      labelSelector: `${MANAGED_BY}!=${FIELD_MANAGER}`,
      keepBodies: false,
      onChange: () => {
        for (const name of lastGen.keys()) enqueue(name);
      },
      log,
    });
    await foreign.ensure(POLICY_KINDS);
    synced = true;

    // Level-triggered safety net: every CR again now and then; kinds served later (an operator installed) get watched.
    // Kinds served later (an operator installed) are watched by the next reconcile's ensure().
    const resync = setInterval(() => {
      for (const name of lastGen.keys()) enqueue(name);
      cache.trim(new Set(lastGen.keys()));
    }, o.resyncMs);
    resync.unref();

    let lost: Error | undefined;
    const renew = elector
      ? setInterval(
          () => {
            elector.tryAcquireOrRenew().then(
              (ok) => {
                if (!ok && !stopping) {
                  lost = new Error(`lost Lease ${o.leaseNamespace}/${o.leaseName}: another replica leads now`);
                  queue.shutdown();
                }
              },
              (e: Error) => log(`controller: renewing Lease: ${e.message}`),
            );
          },
          Math.max(1000, elector.leaseDurationMs / 3),
        )
      : undefined;
    renew?.unref();

    const ctx = { s, event: eventSink(s.client, o.eventNamespace), verifyCache, cache, foreign, desired };
    const worker = async () => {
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        metrics.depth.set(queue.length);
        const t0 = Date.now();
        const end = metrics.duration.startTimer();
        try {
          const r = await reconcile(ctx, key);
          const ready = r.status?.conditions[0];
          const result = r.error
            ? 'error'
            : !r.status
              ? 'gone'
              : ready?.status === 'True'
                ? 'ready'
                : r.status.conditions[2]?.status === 'True'
                  ? 'degraded'
                  : 'progressing';
          metrics.reconciles.inc({ result });
          if (r.error) {
            metrics.errors.inc();
            const d = queue.addRateLimited(key);
            log(`reconcile ${key}: error: ${r.error} (retry in ${(d / 1000).toFixed(1)} s)`);
          } else {
            queue.forget(key);
            if (r.requeueAfterMs !== undefined) queue.addAfter(key, r.requeueAfterMs);
            if (r.status)
              log(
                `reconcile ${key}: ${ready?.status === 'True' ? 'Ready' : `${ready?.reason}`}: ${r.status.applied}/${r.status.objects} applied, ${r.status.pending} pending${r.fromMemory ? ', nothing changed' : r.verifyCached ? ', verify unchanged' : ''} (${Date.now() - t0} ms)`,
              );
          }
        } catch (e) {
          metrics.reconciles.inc({ result: 'error' });
          metrics.errors.inc();
          const d = queue.addRateLimited(key);
          log(`reconcile ${key}: error: ${(e as Error).message.split('\n')[0]} (retry in ${(d / 1000).toFixed(1)} s)`);
        } finally {
          end();
          queue.done(key);
          metrics.depth.set(queue.length);
        }
      }
    };
    const workers = Array.from({ length: o.workers }, worker);
    await Promise.race([stopped.then(() => queue.shutdown()), Promise.all(workers)]);
    await Promise.all(workers);
    clearInterval(resync);
    if (renew) clearInterval(renew);
    await Promise.all([...watchers.map((w) => w.stop()), cache.stop(), foreign.stop()]);
    if (lost) throw lost;
  } finally {
    if (elector && !standby) await elector.release();
    server.close();
  }
}
