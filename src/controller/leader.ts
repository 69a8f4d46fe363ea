// Leader election with a coordination.k8s.io/v1 Lease (client-go's leaderelection, simplified): the
// holder renews every renewMs; anyone may take the Lease once renewTime + leaseDurationSeconds passed.
// Updates carry resourceVersion, so two candidates can never both win one round.
import { ApiError, type KubeClient } from '../cluster/client.ts';

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationS?: number;
  now?: () => number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** RFC 3339 with microseconds, as metav1.MicroTime wants. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly duration: number;
  private readonly now: () => number;

  constructor(
    private readonly client: KubeClient,
    private readonly o: LeaseOptions,
  ) {
    this.duration = o.leaseDurationS ?? 15;
    this.now = o.now ?? Date.now;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
  }

  /** One round: take or renew the Lease. True when we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    let lease: Lease | undefined;
    try {
      lease = await this.client.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    if (!lease) {
      try {
        await this.client.request('POST', this.path, {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: {
              holderIdentity: this.o.identity,
              leaseDurationSeconds: this.duration,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) return false;
        throw e;
      }
    }
    const sp = lease.spec;
    const mine = sp.holderIdentity === this.o.identity;
    const renewed = sp.renewTime ? Date.parse(sp.renewTime) : 0;
    const expired = !sp.holderIdentity || renewed + (sp.leaseDurationSeconds ?? this.duration) * 1000 < now;
    if (!mine && !expired) return false;
    const spec = mine
      ? { ...sp, renewTime: microTime(now), leaseDurationSeconds: this.duration }
      : {
          holderIdentity: this.o.identity,
          leaseDurationSeconds: this.duration,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: (sp.leaseTransitions ?? 0) + 1,
        };
    try {
      await this.client.request('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, { body: { ...lease, spec } });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === 409) return false;
      throw e;
    }
  }

  /** Gives the Lease up (on shutdown) so a standby takes over without waiting for expiry. */
  async release(): Promise<void> {
    try {
      const lease = await this.client.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
      if (lease.spec.holderIdentity !== this.o.identity) return;
      await this.client.request('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.now()) } },
      });
    } catch {
      // Best effort: the Lease expires anyway.
    }
  }

  get leaseDurationMs(): number {
    return this.duration * 1000;
  }
}
