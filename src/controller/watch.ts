// List-then-watch of one resource with a label selector (informer-lite): every event is handed to
// `onEvent`; after 410 Gone (the resourceVersion fell out of the watch window) it lists again; when the
// server ends a watch it resumes from the last resourceVersion; errors back off and retry.
import { ApiError, sleep, type KubeClient } from '../cluster/client.ts';
import type { ResourceInfo } from '../cluster/discovery.ts';
import { resourcePath } from '../cluster/ops.ts';
import type { KubeObject } from '../util/kube.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNC';

export interface WatchOptions {
  labelSelector?: string;
  /** Called with every object of a (re)list as SYNC, then with each watch event. */
  onEvent: (type: WatchEventType, o: KubeObject) => void;
  /** Called before the SYNC events of each (re)list. */
  onListStart?: () => void;
  /** Called after each list (synced) and on each relist after 410. */
  onList?: (relist: boolean) => void;
  onError?: (e: unknown) => void;
  timeoutSeconds?: number;
  /** Objects per page of a (re)list. */
  pageSize?: number;
}

export class Watcher {
  private stopped = false;
  private abort: (() => void) | undefined;
  private readonly loop: Promise<void>;
  relists = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly info: ResourceInfo,
    private readonly o: WatchOptions,
  ) {
    this.loop = this.run();
  }

  private async list(): Promise<string> {
    const apiVersion = this.info.group ? `${this.info.group}/${this.info.version}` : this.info.version;
    this.o.onListStart?.();
    // Paged: 15,000 AuthorizationPolicies in one answer are ~40 MB of text held at once (and memory the
    // allocator keeps afterwards); pages of 500 are one consistent snapshot whose resourceVersion the
    // watch resumes from.
    let cont: string | undefined;
    let rv: string;
    do {
      const r = await this.client.request<{ items: KubeObject[] | null; metadata: { resourceVersion: string; continue?: string } }>(
        'GET',
        resourcePath(this.info),
        { query: { labelSelector: this.o.labelSelector, limit: this.o.pageSize ?? 500, continue: cont } },
      );
      for (const it of r.items ?? []) this.o.onEvent('SYNC', { ...it, apiVersion, kind: this.info.kind });
      rv = r.metadata.resourceVersion;
      cont = r.metadata.continue || undefined;
    } while (cont);
    return rv;
  }

  private async run(): Promise<void> {
    let rv: string | undefined;
    let failures = 0;
    let first = true;
    while (!this.stopped) {
      try {
        if (!rv) {
          rv = await this.list();
          this.o.onList?.(!first);
          if (!first) this.relists++;
          first = false;
        }
        const s = await this.client.stream(
          resourcePath(this.info),
          {
            watch: 1,
            labelSelector: this.o.labelSelector,
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.o.timeoutSeconds ?? 300,
          },
          (line) => {
            const ev = line as { type: string; object: KubeObject & { code?: number } };
            if (ev.type === 'ERROR') {
              // 410 Gone inside the stream: our resourceVersion is too old.
              if (ev.object.code === 410) rv = undefined;
              this.abort?.();
              return;
            }
            const newRv = (ev.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
            if (newRv) rv = newRv;
            if (ev.type === 'BOOKMARK') return;
            this.o.onEvent(ev.type as WatchEventType, ev.object);
          },
        );
        this.abort = s.abort;
        if (this.stopped) s.abort();
        await s.done;
        failures = 0;
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof ApiError && e.code === 410) {
          rv = undefined;
          continue;
        }
        this.o.onError?.(e);
        failures++;
        await sleep(Math.min(30_000, 200 * 2 ** Math.min(failures, 8)));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.();
    await this.loop;
  }
}
