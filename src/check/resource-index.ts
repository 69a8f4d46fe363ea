/** The indexed resource set every rule reads: by kind, by kind+namespace+name. */
import type { KubeObject } from '../util/kube.ts';

/** `Kind` for the core group, else `Kind.group` (kubectl's resource.group form, with the kind). */
export function kindKey(o: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const slash = o.apiVersion.indexOf('/');
  return slash < 0 ? o.kind : `${o.kind}.${o.apiVersion.slice(0, slash)}`;
}

export class ResourceIndex {
  readonly objects: readonly KubeObject[];
  private readonly byKind = new Map<string, KubeObject[]>();
  private readonly byName = new Map<string, KubeObject>();

  constructor(objects: readonly KubeObject[]) {
    this.objects = objects;
    for (const o of objects) {
      const k = kindKey(o);
      const l = this.byKind.get(k);
      if (l) l.push(o);
      else this.byKind.set(k, [o]);
      this.byName.set(`${k}|${o.metadata.namespace ?? ''}|${o.metadata.name}`, o);
    }
  }

  /** Objects of a kind key (`Service`, `Service.serving.knative.dev`). */
  of(kind: string): readonly KubeObject[] {
    return this.byKind.get(kind) ?? [];
  }

  has(kind: string): boolean {
    return this.byKind.has(kind);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byName.get(`${kind}|${namespace ?? ''}|${name}`);
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }
}

/**
 * Objects as if `overlay` were applied on `base` (istioctl analyze's "simulate applying"): an overlay
 * object replaces the live object of the same kind, namespace and name.
 */
export function overlayObjects(base: readonly KubeObject[], overlay: readonly KubeObject[]): KubeObject[] {
  const key = (o: KubeObject) => `${kindKey(o)}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
  const replaced = new Set(overlay.map(key));
  return [...base.filter((o) => !replaced.has(key(o))), ...overlay];
}
