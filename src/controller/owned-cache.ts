// The controller's informer cache of the objects it owns (controller-runtime reads from such a cache,
// never from a list per reconcile): one label-filtered list-then-watch per kind feeds a compact entry per
// object — name, resourceVersion, ownership labels, a digest of its content — instead of the object.
// A reconcile asks "is this rendered body already in place?" and gets the answer from memory:
//   - an entry remembers the resourceVersion at which it was last seen to hold a body with a given
//     applied hash; while the resourceVersion is the same the answer stands;
//   - an object that changed since (a watch event, a relist) keeps its body until the next reconcile
//     compares it, then drops it.
// So a no-op resync of 18,000 objects lists nothing and parses nothing, and an object deleted by hand is
// repaired by one apply (bench/controller). The digests give verify's fingerprint without the objects.
import { createHash } from 'node:crypto';
import type { KubeClient } from '../cluster/client.ts';
import type { Discovery, ResourceInfo } from '../cluster/discovery.ts';
import { slim } from '../cluster/engine.ts';
import { APPLIED_HASH, canonicalJson, isUnchanged, MANAGED_BY, objectKey, SPEC_LABEL } from '../cluster/plan.ts';
import { splitApiVersion } from '../cluster/discovery.ts';
import type { KubeObject } from '../util/kube.ts';
import { Watcher, type WatchEventType } from './watch.ts';

/**
 * An object as verify sees it: everything but status, the fields the server changes on every write, and
 * the version it was read at (the key names the group; one object read at v1 and at v1beta1 is one object).
 */
export function contentOf(o: KubeObject): string {
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    generation: _g,
    managedFields: _mf,
    selfLink: _sl,
    ...meta
  } = o.metadata as KubeObject['metadata'] & Record<string, unknown>;
  const { status: _st, metadata: _m, apiVersion: _av, ...rest } = o;
  // Keys sorted: a list item, a watch event and an apply's answer for the same object order keys differently.
  return canonicalJson({ ...rest, metadata: meta });
}

/** Short digest of contentOf: equal for the same content whichever way it was read. */
export const contentDigest = (o: KubeObject): string => createHash('sha256').update(contentOf(o)).digest('base64').slice(0, 22);

interface Entry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  labels: Record<string, string>;
  rv: string;
  digest: string;
  deleting: boolean;
  /**
   * The object as last seen (JSON, without managedFields), kept only until a reconcile has compared it
   * with what it renders. Text, not objects: after a relist of 18,000 objects this is a third of the heap.
   */
  body?: string;
  /** At resourceVersion `rv` the object held every field of the body with applied hash `hash`. */
  match?: { rv: string; hash: string };
}

interface KindWatch {
  apiVersion: string;
  info: ResourceInfo;
  watcher: Watcher;
  synced: Promise<boolean>;
  epoch: number;
}

const groupKindOf = (o: { apiVersion: string; kind: string }) => `${splitApiVersion(o.apiVersion).group}/${o.kind}`;
/** The two labels that say who owns an object (all an entry keeps of its labels). */
function ownership(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [MANAGED_BY, SPEC_LABEL]) if (labels[k] !== undefined) out[k] = labels[k];
  return out;
}
const rvOf = (o: KubeObject) => (o.metadata as { resourceVersion?: string }).resourceVersion ?? '';

export interface OwnedCacheOptions {
  /** Label selector of the watches: our managed-by label, never an unfiltered watch (seed §1.7). */
  labelSelector: string;
  /** A change not made by us (or missed and found by a relist) to an object labelled for `spec`. */
  onChange: (spec: string | undefined) => void;
  log?: (line: string) => void;
  /** Keep a changed object's body until a reconcile compares it (default true; false: digests only, as for others' policies). */
  keepBodies?: boolean;
  /** Objects per page of the watches' lists (default 500). */
  pageSize?: number;
  /** How long ensure() waits for a new watch's first list before answering "not synced". */
  syncTimeoutMs?: number;
}

export class OwnedCache {
  private readonly kinds = new Map<string, KindWatch>();
  private readonly entries = new Map<string, Entry & { epoch: number }>();
  private readonly unserved = new Set<string>();

  constructor(
    private readonly client: KubeClient,
    private readonly discovery: Discovery,
    private readonly o: OwnedCacheOptions,
  ) {}

  /** Number of objects cached (for the metrics and the tests). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Watches each kind (at the version asked for first) and waits for the first lists. True when every kind
   * the cluster serves is watched at exactly the version asked and synced: only then can the cache stand
   * in for a list. A kind the cluster does not serve counts as synced and empty.
   */
  async ensure(kinds: readonly { apiVersion: string; kind: string }[]): Promise<boolean> {
    const waits: Promise<boolean>[] = [];
    let exact = true;
    for (const k of kinds) {
      const gk = groupKindOf(k);
      const have = this.kinds.get(gk);
      if (have) {
        if (have.apiVersion !== k.apiVersion) exact = false;
        waits.push(have.synced);
        continue;
      }
      const info = await this.discovery.resolve(k.apiVersion, k.kind);
      if (!info) {
        this.unserved.add(gk);
        continue;
      }
      this.unserved.delete(gk);
      waits.push(this.watch(gk, k.apiVersion, info).synced);
    }
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), this.o.syncTimeoutMs ?? 60_000).unref());
    const synced = await Promise.race([Promise.all(waits).then((all) => all.every(Boolean)), timeout]);
    return exact && synced;
  }

  private watch(gk: string, apiVersion: string, info: ResourceInfo): KindWatch {
    let resolveSynced!: (ok: boolean) => void;
    const kw: KindWatch = {
      apiVersion,
      info,
      epoch: 0,
      synced: new Promise<boolean>((r) => (resolveSynced = r)),
      watcher: undefined as unknown as Watcher,
    };
    this.kinds.set(gk, kw);
    let first = true;
    kw.watcher = new Watcher(this.client, info, {
      labelSelector: this.o.labelSelector,
      ...(this.o.pageSize ? { pageSize: this.o.pageSize } : {}),
      onListStart: () => {
        kw.epoch++;
      },
      onEvent: (type, obj) => this.event(kw, type, { ...obj, apiVersion, kind: info.kind }, first),
      onList: (relist) => {
        // Objects the (re)list no longer has were deleted while we were not watching.
        for (const [key, e] of this.entries) {
          if (groupKindOf(e) === gk && e.epoch !== kw.epoch) {
            this.entries.delete(key);
            this.o.onChange(e.labels[SPEC_LABEL]);
          }
        }
        if (relist) this.o.log?.(`controller: ${info.plural} watch relisted (410 Gone)`);
        first = false;
        resolveSynced(true);
      },
      onError: (e) => {
        this.o.log?.(`controller: watch ${info.plural}: ${(e as Error).message}`);
        if (first) resolveSynced(false);
      },
    });
    return kw;
  }

  private event(kw: KindWatch, type: WatchEventType, obj: KubeObject, initial: boolean): void {
    const key = objectKey(obj);
    const had = this.entries.get(key);
    if (type === 'DELETED') {
      if (had) this.entries.delete(key);
      this.o.onChange(obj.metadata.labels?.[SPEC_LABEL]);
      return;
    }
    const rv = rvOf(obj);
    if (had && had.rv === rv) {
      had.epoch = kw.epoch; // our own write, already recorded from the apply's answer; or a relist of the same state
      return;
    }
    const labels = obj.metadata.labels ?? {};
    this.entries.set(key, {
      apiVersion: kw.apiVersion,
      kind: obj.kind,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      name: obj.metadata.name,
      labels: ownership(labels),
      rv,
      digest: contentDigest(obj),
      deleting: !!(obj.metadata as { deletionTimestamp?: string }).deletionTimestamp,
      ...(this.o.keepBodies === false ? {} : { body: JSON.stringify(slim(obj)) }),
      epoch: kw.epoch,
    });
    // The first list is not a change: the CR's own watch starts a reconcile of every spec.
    if (!(initial && type === 'SYNC')) this.o.onChange(labels[SPEC_LABEL]);
  }

  /** True when `desired` (a withOwnership body) is in place: answered from memory, comparing a body at most once per change. */
  isCurrent(desired: KubeObject): boolean {
    const key = objectKey(desired);
    const hash = desired.metadata.annotations?.[APPLIED_HASH] ?? '';
    if (this.matches(key, desired.apiVersion, hash)) return true;
    const e = this.entries.get(key);
    if (!e?.body || e.deleting || e.apiVersion !== desired.apiVersion) return false;
    const same = isUnchanged(desired, JSON.parse(e.body) as KubeObject);
    // Compared: the body is no longer needed (a different answer comes only with a new resourceVersion).
    e.body = undefined;
    if (same) e.match = { rv: e.rv, hash };
    return same;
  }

  /**
   * The same question without a body: true only when the entry is known to hold the body with this
   * applied hash at its resourceVersion. An object changed since has a new entry without `match` (and
   * its body, waiting to be compared): false, and the caller renders.
   */
  matches(key: string, apiVersion: string, hash: string): boolean {
    const e = this.entries.get(key);
    return !!e && !e.deleting && e.apiVersion === apiVersion && e.match?.rv === e.rv && e.match.hash === hash;
  }

  /** How many cached objects carry the spec label `spec`. */
  countFor(spec: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.labels[SPEC_LABEL] === spec) n++;
    return n;
  }

  /** Records what an apply answered: the object now holds `desired` at that resourceVersion. */
  applied(desired: KubeObject, after: KubeObject): void {
    const key = objectKey(desired);
    const rv = rvOf(after);
    const full = { ...after, apiVersion: desired.apiVersion, kind: desired.kind };
    const kw = this.kinds.get(groupKindOf(desired));
    this.entries.set(key, {
      apiVersion: desired.apiVersion,
      kind: desired.kind,
      ...(desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {}),
      name: desired.metadata.name,
      labels: ownership(desired.metadata.labels ?? {}),
      rv,
      digest: contentDigest(full),
      deleting: false,
      match: { rv, hash: desired.metadata.annotations?.[APPLIED_HASH] ?? '' },
      epoch: kw?.epoch ?? 0,
    });
  }

  /** Forgets an object we deleted (prune), so it is not offered for prune again before its event arrives. */
  deleted(o: KubeObject): void {
    this.entries.delete(objectKey(o));
  }

  /**
   * Every object labelled for `spec`, as a stub (apiVersion, kind, name, namespace, labels): what prune and
   * the control-plane check read. Keyed by objectKey.
   */
  owned(spec: string): Map<string, KubeObject> {
    const out = new Map<string, KubeObject>();
    for (const [key, e] of this.entries) {
      if (e.labels[SPEC_LABEL] !== spec) continue;
      out.set(key, {
        apiVersion: e.apiVersion,
        kind: e.kind,
        metadata: { name: e.name, ...(e.namespace ? { namespace: e.namespace } : {}), labels: { ...e.labels } },
      });
    }
    return out;
  }

  /** Content digest of an owned object by objectKey (undefined when not cached). */
  digest(key: string): string | undefined {
    return this.entries.get(key)?.digest;
  }

  /** objectKey → content digest of the cached objects (those `filter` keeps: group/kind and spec label). */
  digests(filter?: (groupKind: string, spec: string | undefined) => boolean): [string, string][] {
    const out: [string, string][] = [];
    for (const [k, e] of this.entries) if (!filter || filter(groupKindOf(e), e.labels[SPEC_LABEL])) out.push([k, e.digest]);
    return out;
  }

  /** Drops the bodies kept for specs that no CR names (no reconcile would ever compare them). */
  trim(specs: ReadonlySet<string>): void {
    for (const e of this.entries.values()) if (e.body && !specs.has(e.labels[SPEC_LABEL] ?? '')) e.body = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.kinds.values()].map((k) => k.watcher.stop()));
  }
}
