/** Small readers shared by rules: nested fields of raw objects, durations, label checks. */
import type { KubeObject } from '../util/kube.ts';

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `get(o, 'spec', 'security', 'dataPlane', 'mtls')` */
export function get(o: unknown, ...path: Array<string | number>): unknown {
  let cur: unknown = o;
  for (const p of path) {
    if (typeof p === 'number') cur = Array.isArray(cur) ? cur[p] : undefined;
    else cur = isObj(cur) ? cur[p] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');
export const rec = (v: unknown): Record<string, unknown> => (isObj(v) ? v : {});

/** Go duration (`35s`, `1m30s`, `500ms`) → seconds; undefined when unparseable. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v === '') return undefined;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  while ((m = re.exec(v))) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  return end === v.length ? total : undefined;
}

export const annotations = (o: KubeObject): Record<string, string> => o.metadata.annotations ?? {};
export const labels = (o: KubeObject): Record<string, string> => o.metadata.labels ?? {};

export { portList } from '../model/host-port.ts';
