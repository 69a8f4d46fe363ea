import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import { PART_OF, SERVING_NS } from '../model/constants.ts';

// Not typed with client-node's V1NetworkPolicy: its model names the `from` field `_from`
// (a serialisation detail of its typed path), which is not the wire format we emit.

/**
 * Lets Prometheus scrape Knative Serving (docs §1.5 step 2). The namespace is selected by
 * `kubernetes.io/metadata.name`, which the apiserver sets on every namespace (Kubernetes ≥ 1.21),
 * as the operator's own policy does; the docs' `name:` label is not guaranteed to exist.
 */
export function monitoringNetworkPolicy(spec: ServerlessMeshSpec): KubeObject {
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-from-openshift-monitoring-ns', namespace: SERVING_NS },
    spec: {
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': spec.metrics.monitoringNamespace } } }] },
      ],
      podSelector: {},
      policyTypes: ['Ingress'],
    },
  };
  return policy;
}

/** With Kourier kept (docs §1.6): each mesh member admits traffic from the Knative system namespaces. */
export function kourierMemberNetworkPolicies(spec: ServerlessMeshSpec): KubeObject[] {
  return spec.members.map((ns) => {
    const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-from-serving-system-namespace', namespace: ns },
    spec: {
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { [PART_OF]: 'openshift-serverless' } } }] }],
      podSelector: {},
      policyTypes: ['Ingress'],
    },
    };
    return policy;
  });
}
