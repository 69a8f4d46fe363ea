import type { V1Namespace } from '@kubernetes/client-node';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import { EVENTING_NS, PART_OF, SERVING_INGRESS_NS, SERVING_NS, TENANT_LABEL } from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';

const partOf = { [PART_OF]: 'openshift-serverless' };

function namespace(name: string, labels: Record<string, string>): KubeObject {
  const metadata = Object.keys(labels).length > 0 ? { name, labels } : { name };
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata } satisfies V1Namespace;
  return ns;
}

/**
 * Every namespace the procedure uses. Knative system namespaces carry the
 * `knative.openshift.io/part-of: openshift-serverless` label that NetworkPolicies select (§1.6);
 * tenant namespaces are labelled with their tenant so that policies and people can find them.
 * Where the flavour injects by namespace label, mesh namespaces carry it (knative-serving-ingress
 * does not: its only workload, the gateway, asks for the gateway template by pod label).
 */
export function namespaces(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject[] {
  const injection = spec.ingress === 'istio' ? profile.injection.namespaceLabels(spec) : {};
  const system = profile.injection.labelSystemNamespaces ? { ...partOf, ...injection } : partOf;
  const out = profile.controlPlaneNamespaces(spec).map((ns) => namespace(ns, {}));
  out.push(namespace(SERVING_NS, system), namespace(SERVING_INGRESS_NS, partOf));
  if (spec.eventing.enabled) out.push(namespace(EVENTING_NS, system));
  for (const ns of spec.members) out.push(namespace(ns, injection));
  for (const t of spec.tenants) for (const ns of t.namespaces) out.push(namespace(ns, { ...injection, [TENANT_LABEL]: t.name }));
  return out;
}
