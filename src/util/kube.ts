/** A Kubernetes object as plain data: what render produces and the cluster layer applies. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `group/version/Kind` key (core group is the empty string). */
export function gvk(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  return `${group}/${version}/${obj.kind}`;
}

/** Stable human reference: `Kind/namespace/name` or `Kind/name`. */
export function objectRef(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return obj.metadata.namespace ? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`;
}
