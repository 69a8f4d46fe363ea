// REST operations on single objects and lists, and one-line error messages for them.
import { ClusterError, UserError } from '../util/errors.ts';
import { objectRef, type KubeObject } from '../util/kube.ts';
import { ApiError, UnreachableError, type KubeClient } from './client.ts';
import type { ResourceInfo } from './discovery.ts';
import { FIELD_MANAGER } from './plan.ts';

export function resourcePath(info: ResourceInfo, namespace?: string, name?: string): string {
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface ApplyCallOptions {
  dryRun?: boolean;
  force?: boolean;
}

/** Server-side apply of one object, sent verbatim (no client-side model), unknown fields rejected. */
export function serverSideApply(client: KubeClient, info: ResourceInfo, body: KubeObject, o: ApplyCallOptions = {}): Promise<KubeObject> {
  return client.request<KubeObject>('PATCH', resourcePath(info, body.metadata.namespace, body.metadata.name), {
    body,
    contentType: 'application/apply-patch+yaml',
    query: {
      fieldManager: FIELD_MANAGER,
      force: o.force ? true : undefined,
      fieldValidation: 'Strict',
      dryRun: o.dryRun ? 'All' : undefined,
    },
  });
}

export async function getObject(
  client: KubeClient,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await client.request<KubeObject>('GET', resourcePath(info, namespace, name));
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return undefined;
    throw e;
  }
}

/** Deletes; an object that is already gone counts as deleted. */
export async function deleteObject(client: KubeClient, info: ResourceInfo, namespace: string | undefined, name: string): Promise<void> {
  try {
    await client.request('DELETE', resourcePath(info, namespace, name), {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
    });
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return;
    throw e;
  }
}

/** All objects of a resource across namespaces, paged (client-node's generic list loses `continue` for CRs). */
export async function listAll(
  client: KubeClient,
  info: ResourceInfo,
  labelSelector?: string,
  o: { fromCache?: boolean } = {},
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  let cont: string | undefined;
  do {
    // fromCache: resourceVersion=0 is answered from the apiserver's watch cache in one piece instead of
    // paging through etcd — several times faster for thousands of objects, at most a moment stale.
    const query = o.fromCache ? { labelSelector, resourceVersion: '0' } : { labelSelector, limit: 500, continue: cont };
    const page = await client.request<{ items: KubeObject[]; metadata?: { continue?: string } }>('GET', resourcePath(info), { query });
    // List items omit apiVersion/kind; restore them so keys and diffs work.
    for (const it of page.items)
      out.push({ ...it, apiVersion: info.group ? `${info.group}/${info.version}` : info.version, kind: info.kind });
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return out;
}

/** Best-effort resource from a request path, for errors outside any object (lists, discovery). */
function infoFromPath(path: string): ResourceInfo | undefined {
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/[^/]+)?\/([^/]+)/.exec(path);
  if (!m) return undefined;
  return { group: m[2] ?? '', version: m[1] ?? m[3] ?? '', kind: '', plural: m[4]!, namespaced: false };
}

/** HTTP method → the RBAC verb it needs. */
export function verbOf(method: string, path: string): string {
  const named = /\/[^/]+\/[^/]+$/.test(path);
  return (
    ({ GET: named ? 'get' : 'list', PATCH: 'patch', DELETE: 'delete', POST: 'create', PUT: 'update' } as Record<string, string>)[method] ??
    method.toLowerCase()
  );
}

/** Any error from the cluster layer as a UserError with one readable line. */
export function toUserError(e: unknown): Error {
  if (e instanceof UserError) return e;
  if (e instanceof ApiError) return new ClusterError(describeError(e, verbOf(e.method, e.path), undefined));
  if (e instanceof UnreachableError) return new ClusterError(e.message);
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * One readable line for a failed request: unreachable, 401, 403 (verb and resource), SSA conflict
 * (fields and the other manager), webhook denial, invalid object.
 */
export function describeError(
  e: unknown,
  verb: string,
  info: ResourceInfo | undefined,
  obj?: Pick<KubeObject, 'kind' | 'metadata'>,
): string {
  if (!info && e instanceof ApiError) info = infoFromPath(e.path);
  const what = obj ? objectRef(obj) : info ? info.plural : 'request';
  if (e instanceof UnreachableError) return `${what}: ${e.message}`;
  if (!(e instanceof ApiError)) return `${what}: ${e instanceof Error ? e.message : String(e)}`;
  const msg = (e.status.message ?? '').trim();
  const resource = info ? `${info.plural}${info.group ? `.${info.group}` : ''}` : 'resource';
  switch (e.code) {
    case 401:
      return `${what}: unauthorized (401): the cluster rejected the kubeconfig's credentials`;
    case 403: {
      if (/admission webhook/i.test(msg)) return `${what}: denied by admission webhook: ${msg}`;
      const m = /cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?/.exec(msg);
      const v = m?.[1] ?? verb;
      const r = m ? `${m[2]}${m[3] ? `.${m[3]}` : ''}` : resource;
      const scope = obj?.metadata.namespace ? ` in namespace "${obj.metadata.namespace}"` : '';
      return `${what}: forbidden (403): missing permission to ${v} ${r}${scope} (${msg})`;
    }
    case 409: {
      if (e.status.reason === 'Conflict' || /conflict/i.test(msg)) {
        // Apply conflicts: causes carry field + "conflict with \"manager\"", or only the message does.
        const byManager = new Map<string, string[]>();
        for (const c of e.status.details?.causes ?? []) {
          if (!c.field) continue;
          const mgr = /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? 'another manager';
          byManager.set(mgr, [...(byManager.get(mgr) ?? []), c.field]);
        }
        if (!byManager.size) {
          for (const m of msg.matchAll(/conflicts? with "([^"]+)"(?: using [^:]+)?:((?:\s*(?:-\s*)?\.[^\n]+)+)/g)) {
            const fields = m[2]!
              .split(/\n|\s-\s/)
              .map((f) => f.replace(/^\s*-?\s*/, '').trim())
              .filter((f) => f.startsWith('.'));
            byManager.set(m[1]!, [...(byManager.get(m[1]!) ?? []), ...fields]);
          }
        }
        const owners = [...byManager].map(([m, f]) => `${f.join(', ')} owned by "${m}"`).join('; ');
        return `${what}: conflict (409): ${owners || msg}; re-run with --force-conflicts to take these fields over`;
      }
      return `${what}: conflict (409): ${msg}`;
    }
    case 404:
      return `${what}: not found (404): ${msg}`;
    case 422:
      return `${what}: invalid (422): ${msg}`;
    default:
      if (/admission webhook/i.test(msg)) return `${what}: denied by admission webhook: ${msg}`;
      return `${what}: ${e.code} ${e.status.reason ?? ''}: ${msg}`.replace(/\s+:/, ':');
  }
}
