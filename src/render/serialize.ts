import type { KubeObject } from '../util/kube.ts';
import { emitYaml } from './yaml-emit.ts';

/** Multi-document YAML, the form `kubectl apply -f` reads. */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${emitYaml(o)}`).join('');
}

/** A `v1/List`, the JSON form kubectl reads. */
export function toJson(objects: readonly KubeObject[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
}

/** File name for one object in `render -o DIR`: ordered, unique, readable. */
export function fileNameFor(obj: KubeObject, index: number, ext: 'yaml' | 'json'): string {
  const ns = obj.metadata.namespace ? `${obj.metadata.namespace}.` : '';
  return `${String(index).padStart(3, '0')}-${obj.kind.toLowerCase()}-${ns}${obj.metadata.name}.${ext}`;
}
