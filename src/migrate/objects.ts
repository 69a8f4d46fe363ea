// Small helpers over raw Kubernetes objects shared by recover and plan (pure).
import type { KubeObject } from '../util/kube.ts';

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** group/Kind/namespace/name: the identity of an object whatever version it is read at. */
export const keyOf = (o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string =>
  `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Labels the apply engine puts on what it owns (src/cluster/plan.ts; repeated here: pure modules do not import cluster/). */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const FIELD_MANAGER = 'serverless-mesh';
export const SPEC_LABEL = 'serverlessmesh.dev/spec';
export const APPLIED_HASH = 'serverlessmesh.dev/applied-hash';

export const isOurs = (o: KubeObject, specName?: string): boolean => {
  const l = o.metadata.labels ?? {};
  return l[MANAGED_BY] === FIELD_MANAGER && (specName === undefined ? !!l[SPEC_LABEL] : l[SPEC_LABEL] === specName);
};

/** Every field of `want` present in `have` with the same value (lists: same length, element-wise). */
export function contains(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  if (!isObj(have)) return false;
  for (const [k, w] of Object.entries(want)) {
    if (w === undefined) continue;
    if (!contains(have[k], w)) return false;
  }
  return true;
}

/** Ready=True for the current generation (observedGeneration caught up when reported). */
export function isReady(o: KubeObject | undefined): boolean {
  if (!o) return false;
  const st = isObj(o.status) ? (o.status as { observedGeneration?: number; conditions?: { type?: string; status?: string }[] }) : {};
  const gen = (o.metadata as { generation?: number }).generation;
  if (st.observedGeneration !== undefined && gen !== undefined && st.observedGeneration < gen) return false;
  return (st.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** strconv.ParseBool's true values: what the Serverless operator accepts for its boolean annotations (research §9.7). */
export const parseBoolTrue = (v: string | undefined): boolean => v !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);
