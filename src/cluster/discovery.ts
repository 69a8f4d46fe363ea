import { ClusterError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { ApiError, type KubeClient } from './client.ts';

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Who provides an API group, for "install X" messages. */
export const GROUP_PROVIDERS: Record<string, string> = {
  'maistra.io': 'the OpenShift Service Mesh 2.x operator (Subscription "servicemeshoperator", Maistra)',
  'sailoperator.io': 'the OpenShift Service Mesh 3.x operator (Subscription "servicemeshoperator3", sail-operator)',
  'networking.istio.io': 'an Istio control plane (OpenShift Service Mesh operator or upstream Istio)',
  'security.istio.io': 'an Istio control plane (OpenShift Service Mesh operator or upstream Istio)',
  'operator.knative.dev': 'the OpenShift Serverless operator (Subscription "serverless-operator") or the Knative operator',
  'operator.serverless.openshift.io': 'the OpenShift Serverless operator (Subscription "serverless-operator"), which serves KnativeKafka',
  'route.openshift.io': 'OpenShift (route.openshift.io); on plain Kubernetes install the Route CRD',
  'serving.knative.dev': 'Knative Serving (created by a KnativeServing CR)',
  'eventing.knative.dev': 'Knative Eventing (created by a KnativeEventing CR)',
};

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

export interface DiscoveryOptions {
  /** How long an answer is trusted (default 5 min): CRDs come and go while a controller runs. */
  ttlMs?: number;
  /** How long "not served" is trusted (default 30 s): an operator installing its CRD is seen soon. */
  missTtlMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
  /** Set once the promise settled to "not served" (shorter TTL). */
  miss?: boolean;
}

/**
 * What the cluster serves, per group/version, cached with a TTL (a CLI run never outlives it; a
 * controller re-reads). Failed lookups are not cached; `invalidate()` drops everything (after a
 * CRD event or a "not found" for a kind that should exist).
 */
export class Discovery {
  private readonly gv = new Map<string, Cached<Map<string, ResourceInfo> | null>>();
  private groups?: Cached<Map<string, string[]>>;
  private readonly ttlMs: number;
  private readonly missTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: KubeClient,
    o: DiscoveryOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 5 * 60_000;
    this.missTtlMs = o.missTtlMs ?? 30_000;
    this.now = o.now ?? Date.now;
  }

  /** Forget everything: the next lookup asks the apiserver again. */
  invalidate(): void {
    this.gv.clear();
    this.groups = undefined;
  }

  private fresh<T>(c: Cached<T> | undefined): c is Cached<T> {
    return !!c && this.now() - c.at < (c.miss ? this.missTtlMs : this.ttlMs);
  }

  /** group → served versions (preferred first). */
  apiGroups(): Promise<Map<string, string[]>> {
    if (this.fresh(this.groups)) return this.groups.value;
    const value = (async () => {
      const out = new Map<string, string[]>();
      const core = await this.client.request<{ versions: string[] }>('GET', '/api');
      out.set('', core.versions);
      const list = await this.client.request<{
        groups: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[];
      }>('GET', '/apis');
      for (const g of list.groups) {
        const pref = g.preferredVersion?.version;
        const vs = g.versions.map((v) => v.version);
        out.set(g.name, pref ? [pref, ...vs.filter((v) => v !== pref)] : vs);
      }
      return out;
    })();
    const entry: Cached<Map<string, string[]>> = { at: this.now(), value };
    this.groups = entry;
    value.catch(() => {
      if (this.groups === entry) this.groups = undefined;
    });
    return value;
  }

  private groupVersion(group: string, version: string): Promise<Map<string, ResourceInfo> | null> {
    const key = `${group}/${version}`;
    const hit = this.gv.get(key);
    if (this.fresh(hit)) return hit.value;
    const entry: Cached<Map<string, ResourceInfo> | null> = { at: this.now(), value: Promise.resolve(null) };
    entry.value = (async () => {
      const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
      try {
        const list = await this.client.request<ApiResourceList>('GET', path);
        const m = new Map<string, ResourceInfo>();
        for (const r of list.resources) {
          if (r.name.includes('/')) continue; // subresources
          m.set(r.kind, { group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced });
        }
        return m;
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) {
          entry.miss = true;
          return null;
        }
        if (this.gv.get(key) === entry) this.gv.delete(key);
        throw e;
      }
    })();
    this.gv.set(key, entry);
    return entry.value;
  }

  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const { group, version } = splitApiVersion(apiVersion);
    const found = (await this.groupVersion(group, version))?.get(kind);
    if (found) return found;
    // A kind missing from a served group/version is re-checked after missTtlMs (a CRD added to a group).
    const key = `${group}/${version}`;
    const hit = this.gv.get(key);
    if (hit && !hit.miss && this.now() - hit.at >= this.missTtlMs) {
      this.gv.delete(key);
      return (await this.groupVersion(group, version))?.get(kind);
    }
    return undefined;
  }

  /**
   * Resolves every object's resource, or throws one error listing each missing API with the operator
   * that provides it.
   */
  async resolveAll(objects: readonly KubeObject[]): Promise<Map<string, ResourceInfo>> {
    const keys = new Map<string, { apiVersion: string; kind: string }>();
    for (const o of objects) keys.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
    const out = new Map<string, ResourceInfo>();
    const missing: string[] = [];
    await Promise.all(
      [...keys].map(async ([k, { apiVersion, kind }]) => {
        const info = await this.resolve(apiVersion, kind);
        if (info) out.set(k, info);
        else missing.push(missingApiMessage(apiVersion, kind, await this.apiGroups()));
      }),
    );
    if (missing.length) throw new ClusterError(missing.sort().join('\n'));
    return out;
  }

  /** Which mesh / Knative / OpenShift APIs exist. */
  async platform(): Promise<Platform> {
    return detectPlatform(await this.apiGroups());
  }
}

export interface Platform {
  mesh: 'maistra' | 'sail-operator' | 'istio' | 'none';
  knativeOperator: boolean;
  knativeKafka: boolean;
  openshiftRoute: boolean;
}

/** Pure: decide the platform from the served API groups. */
export function detectPlatform(groups: ReadonlyMap<string, string[]>): Platform {
  const mesh = groups.has('maistra.io')
    ? 'maistra'
    : groups.has('sailoperator.io')
      ? 'sail-operator'
      : groups.has('networking.istio.io')
        ? 'istio'
        : 'none';
  return {
    mesh,
    knativeOperator: groups.has('operator.knative.dev'),
    knativeKafka: groups.has('operator.serverless.openshift.io'),
    openshiftRoute: groups.has('route.openshift.io'),
  };
}

/** Pure: the message for a kind the cluster does not serve. */
export function missingApiMessage(apiVersion: string, kind: string, groups: ReadonlyMap<string, string[]>): string {
  const { group, version } = splitApiVersion(apiVersion);
  const provider = GROUP_PROVIDERS[group];
  const served = groups.get(group);
  if (served && !served.includes(version)) {
    return `${kind} ${apiVersion} is not served by this cluster (${group} serves ${served.join(', ')}): the installed ${provider ?? `provider of ${group}`} is a different version than the spec's mesh flavour expects`;
  }
  return `${kind} (${apiVersion}) is not served by this cluster: install ${provider ?? `the operator that provides the ${group || 'core'} API group`}`;
}
