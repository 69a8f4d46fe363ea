// Pure diff formatting: normalised objects → unified diff per object (kubectl diff convention).
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import yaml from 'js-yaml';
import type { KubeObject } from '../util/kube.ts';

/** Server-owned metadata that changes on every write and says nothing about the desired state. */
const NOISE = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];

/** Copy without server bookkeeping; Secret values replaced by a digest so keys never reach the terminal. */
export function normalizeForDiff(o: KubeObject | undefined): KubeObject | undefined {
  if (!o) return undefined;
  const c = structuredClone(o);
  for (const k of NOISE) delete c.metadata[k];
  if (c.kind === 'Secret' && c.apiVersion === 'v1') {
    for (const field of ['data', 'stringData'] as const) {
      const d = c[field] as Record<string, string> | undefined;
      if (!d) continue;
      c[field] = Object.fromEntries(
        Object.entries(d).map(([k, v]) => [k, `<redacted sha256:${createHash('sha256').update(String(v)).digest('hex').slice(0, 12)}>`]),
      );
    }
  }
  return c;
}

export function toDiffYaml(o: KubeObject | undefined): string {
  return o ? yaml.dump(o, { lineWidth: -1, noRefs: true, sortKeys: false }) : '';
}

/** Diff header name: apiVersion included, as two versions of a kind may both be applied. */
function diffRef(o: KubeObject): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.apiVersion}/${o.kind}/${ns}${o.metadata.name}`;
}

/**
 * Unified diff of one object from live (or nothing) to what the server would have after apply (or
 * nothing, when it would be pruned). Empty string when equal.
 */
export function diffObject(live: KubeObject | undefined, next: KubeObject | undefined): string {
  const a = toDiffYaml(normalizeForDiff(live));
  const b = toDiffYaml(normalizeForDiff(next));
  if (a === b) return '';
  const ref = diffRef((next ?? live)!);
  const patch = createTwoFilesPatch(live ? `live/${ref}` : '/dev/null', next ? `applied/${ref}` : '/dev/null', a, b, '', '', {
    context: 3,
  });
  // drop jsdiff's "=====" banner line so the output reads like `diff -u`
  return patch.replace(/^=+\n/, '');
}
