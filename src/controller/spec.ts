// A ServerlessMesh CR → the spec render takes, through the same loader `apply -f` uses (schema,
// derived defaults, cross-field rules). Errors come back as lines without the FILE:LINE:COL prefix
// a file would have: on the CR's status they point at the field path only.
import { parseSpec } from '../api/load.ts';
import type { ServerlessMesh } from '../api/types.ts';
import { UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';

export type SpecResult = { ok: true; mesh: ServerlessMesh } | { ok: false; errors: string[] };

const WHERE = /^.*?:\d+:\d+: /;

export function specFromCr(cr: KubeObject): SpecResult {
  const doc = { apiVersion: cr.apiVersion, kind: cr.kind, metadata: { name: cr.metadata.name }, spec: cr.spec ?? {} };
  try {
    return { ok: true, mesh: parseSpec(`${cr.kind}/${cr.metadata.name}`, JSON.stringify(doc)) };
  } catch (e) {
    if (e instanceof UserError) return { ok: false, errors: e.message.split('\n').map((l) => l.replace(WHERE, '')) };
    throw e;
  }
}
