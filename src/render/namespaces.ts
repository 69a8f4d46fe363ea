import type { V1Namespace } from '@kubernetes/client-node';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import { EVENTING_NS, PART_OF, SERVING_INGRESS_NS, SERVING_NS, TENANT_LABEL } from './constants.ts';

const partOf = { [PART_OF]: 'openshift-serverless' };

function namespace(name: string, labels?: Record<string, string>): KubeObject {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: labels ? { name, labels } : { name } } satisfies V1Namespace;
  return ns;
}

/**
 * Every namespace the procedure uses. Knative system namespaces carry the
 * `knative.openshift.io/part-of: openshift-serverless` label that NetworkPolicies select (§1.6);
 * tenant namespaces are labelled with their tenant so that policies and people can find them.
 */
export function namespaces(spec: ServerlessMeshSpec): KubeObject[] {
  const out = [namespace(spec.mesh.namespace), namespace(SERVING_NS, partOf), namespace(SERVING_INGRESS_NS, partOf)];
  if (spec.eventing.enabled) out.push(namespace(EVENTING_NS, partOf));
  for (const ns of spec.members) out.push(namespace(ns));
  for (const t of spec.tenants) for (const ns of t.namespaces) out.push(namespace(ns, { [TENANT_LABEL]: t.name }));
  return out;
}
