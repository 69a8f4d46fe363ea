// `diff -f SPEC`: what apply would change, from a server-side dry-run of every object against live.
import type { KubeObject } from '../util/kube.ts';
import { ApiError } from './client.ts';
import type { ClusterSession } from './apply.ts';
import { diffObject } from './diff.ts';
import { describeError, getObject, listAll, serverSideApply } from './ops.ts';
import { releaseBody } from './apply.ts';
import { PHASE_ORDER, kindsToList, mapLimit, objectKey, ownedSelector, phaseOf, selectPrune, withOwnership } from './plan.ts';

export interface DiffResult {
  /** Unified diffs, one per changed object, in apply order. */
  diffs: string[];
  errors: string[];
}

export async function diffSpec(
  s: ClusterSession,
  objects: readonly KubeObject[],
  o: { specName: string; force?: boolean; concurrency?: number },
): Promise<DiffResult> {
  const concurrency = o.concurrency ?? 32;
  const bodies = objects.map((x) => withOwnership(x, o.specName));
  const desiredNamespaces = new Set(bodies.filter((b) => b.kind === 'Namespace' && b.apiVersion === 'v1').map((b) => b.metadata.name));
  const errors: string[] = [];
  const byKey = new Map<string, string>();

  await mapLimit(bodies, concurrency, async (b) => {
    const info = await s.discovery.resolve(b.apiVersion, b.kind);
    if (!info) {
      try {
        await s.discovery.resolveAll([b]);
      } catch (e) {
        errors.push((e as Error).message);
      }
      return;
    }
    try {
      const live = await getObject(s.client, info, b.metadata.namespace, b.metadata.name);
      let next: KubeObject;
      try {
        next = await serverSideApply(s.client, info, b, { dryRun: true, force: o.force });
      } catch (e) {
        // The dry run cannot create into a namespace that only the apply itself would create.
        if (e instanceof ApiError && e.code === 404 && b.metadata.namespace && desiredNamespaces.has(b.metadata.namespace) && !live)
          next = b;
        else throw e;
      }
      byKey.set(objectKey(b), diffObject(live, next));
    } catch (e) {
      errors.push(describeError(e, 'patch', info, b));
    }
  });

  // What prune would do.
  const owned: KubeObject[] = [];
  await mapLimit(kindsToList(bodies), concurrency, async (k) => {
    const info = await s.discovery.resolve(k.apiVersion, k.kind);
    if (!info) return;
    try {
      owned.push(...(await listAll(s.client, info, ownedSelector(o.specName))));
    } catch (e) {
      errors.push(describeError(e, 'list', info));
    }
  });
  const prune = selectPrune(bodies, owned, o.specName);
  const nsInfo = await s.discovery.resolve('v1', 'Namespace');
  await mapLimit(prune, concurrency, async (v) => {
    if (v.kind === 'Namespace' && v.apiVersion === 'v1' && nsInfo) {
      // Exactly what apply's prune sends (releaseBody), as a server-side dry run: every field our
      // manager owned goes, not only our labels.
      try {
        const released = await serverSideApply(s.client, nsInfo, releaseBody(v.metadata.name), { dryRun: true });
        byKey.set(objectKey(v), diffObject(v, released));
      } catch (e) {
        errors.push(describeError(e, 'patch', nsInfo, v));
      }
    } else byKey.set(objectKey(v), diffObject(v, undefined));
  });

  const rank = (k: string, o2: KubeObject) => PHASE_ORDER.indexOf(phaseOf(o2)) * 1e6 + (order.get(k) ?? 0);
  const order = new Map(bodies.map((b, i) => [objectKey(b), i]));
  const all = [...bodies, ...prune].map((x) => ({ k: objectKey(x), x }));
  all.sort((a, b) => rank(a.k, a.x) - rank(b.k, b.x));
  const diffs = all.map(({ k }) => byKey.get(k) ?? '').filter(Boolean);
  return { diffs, errors };
}
