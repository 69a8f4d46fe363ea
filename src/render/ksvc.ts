import type { KubeObject } from '../util/kube.ts';
import { INJECT, PASSTHROUGH, REWRITE_PROBES } from '../model/constants.ts';

export interface KsvcOptions {
  name: string;
  namespace: string;
  image: string;
  env?: Array<{ name: string; value: string }>;
  /** NVIDIA GPUs per pod (docs chapter 5: `nvidia.com/gpu` limit). */
  gpu?: number;
}

/**
 * A Knative Service ready for the mesh (docs §1.4.4): passthrough Route so the gateway serves the
 * wildcard certificate, sidecar injection label and probe rewriting on the revision template.
 */
export function meshReadyKsvc(o: KsvcOptions): KubeObject {
  const container: Record<string, unknown> = { image: o.image };
  if (o.env && o.env.length > 0) container.env = o.env;
  if (o.gpu !== undefined) container.resources = { limits: { 'nvidia.com/gpu': o.gpu } };
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: o.name, namespace: o.namespace, annotations: { [PASSTHROUGH]: 'true' } },
    spec: {
      template: {
        metadata: { labels: { [INJECT]: 'true' }, annotations: { [REWRITE_PROBES]: 'true' } },
        spec: { containers: [container] },
      },
    },
  };
}
