import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import { METADATA_NAME_LABEL, OPENSHIFT_MONITORING_NS, PART_OF, SERVING_NS } from '../model/constants.ts';

// Not typed with client-node's V1NetworkPolicy: its model names the `from` field `_from`
// (a serialisation detail of its typed path), which is not the wire format we emit.

/**
 * An extra monitoring namespace allowed to scrape Knative Serving (docs §1.5 step 2), only where it
 * adds to NetworkPolicies that already select knative-serving's pods. The docs' own policy
 * `allow-from-openshift-monitoring-ns` is not rendered: the Serverless operator generates a policy of
 * that name whenever Istio ingress is on and generation is enabled (research §2.2), so two owners would
 * share it and prune could delete the operator's copy. Where nothing else selects those pods (generation
 * disabled, Kourier, OSSM 3) a `podSelector: {}` policy admitting only monitoring would be a catch-all
 * cutting the gateways, Kourier and the webhooks off; test/render/network-policies.test.ts reasons it through.
 * The namespace is selected by `kubernetes.io/metadata.name`, which the apiserver sets on every namespace.
 */
export function monitoringNetworkPolicy(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject | undefined {
  const ns = spec.metrics.monitoringNamespace;
  const operatorSelectsAll =
    profile.networkPolicies.generatedBy === 'operator' && spec.ingress === 'istio' && spec.networkPolicies === 'generate';
  if (!spec.metrics.enabled || !spec.serving.enabled || !operatorSelectsAll || ns === OPENSHIFT_MONITORING_NS) return undefined;
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `allow-from-${ns}`, namespace: SERVING_NS },
    spec: {
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { [METADATA_NAME_LABEL]: ns } } }] }],
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
