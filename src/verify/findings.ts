/** verify's findings: codes, metadata (docs/rules.md) and constructors. */
import type { Ksvc } from '../authz/knative.ts';
import { SERVING_NS } from '../model/constants.ts';
import { docsUrl, type Finding, type Reachability, type ResourceRef } from '../report/finding.ts';
import type { RuleDescriptor } from '../report/render.ts';

export const VERIFY_RULES = {
  leak: {
    code: 'SM5001',
    name: 'cross-tenant-leak',
    title: 'Cross-tenant request allowed',
    description:
      "A namespace of one isolation unit (a tenant; with tenants, a member namespace outside every tenant is a unit of its own) can reach a Knative Service or an eventing receiver (broker, channel, sink) of another on an in-mesh path (direct, through the activator, through the local gateway), or gets into another unit's broker by setting Kn-Namespace itself. The activator hop hides the caller identity, so the policy at the activator must decide by Host and source (research users-and-anchors.md P2, P7).",
    severity: 'error',
    fix: "Restrict the tenant ALLOW policies (and the per-tenant allow-<tenant>-to-activator policy in knative-serving) to the tenant's own namespaces and hosts.",
  },
  broken: {
    code: 'SM5002',
    name: 'same-tenant-refused',
    title: 'Same-tenant request refused',
    description:
      "A namespace of the unit that owns a Knative Service or eventing receiver cannot reach it on an in-mesh path, or the broker filter cannot deliver the unit's events to it.",
    severity: 'error',
    fix: "Allow the tenant's namespaces at the revision pods and, for the activator path, at the activator (by Host).",
  },
  blocked: {
    code: 'SM5003',
    name: 'required-edge-blocked',
    title: 'Knative control traffic refused',
    description:
      'A request Knative itself needs (activator probe, autoscaler metrics scrape, kubelet PreStop drain, net-istio ingress probe, activator → autoscaler statistics) is refused by the mesh (research users-and-anchors.md P1, P3, P4, P5).',
    severity: 'error',
    fix: 'Allow knative-serving (activator, autoscaler) to the revision ports 8012/9090, allow port 8022 from any source or exclude it from capture, and exempt the ingress probe at the gateway.',
  },
} as const satisfies Record<string, RuleDescriptor>;

export const verifyRuleDescriptors = (): RuleDescriptor[] => Object.values(VERIFY_RULES);

export const ksvcRef = (k: Pick<Ksvc, 'namespace' | 'name'>): ResourceRef => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  namespace: k.namespace,
  name: k.name,
});
const AUTOSCALER: ResourceRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: SERVING_NS, name: 'autoscaler' };

export function reachabilityFinding(
  which: 'leak' | 'broken',
  target: Pick<Ksvc, 'namespace' | 'name'> | ResourceRef,
  message: string,
  r: Reachability,
): Finding {
  const meta = VERIFY_RULES[which];
  const resource = 'kind' in target ? target : ksvcRef(target);
  return { code: meta.code, severity: meta.severity, message, resource, fix: meta.fix, docs: docsUrl(meta.code), reachability: r };
}

export function blockedFinding(
  target: Pick<Ksvc, 'namespace' | 'name'> | null,
  message: string,
  hop: string,
  policy: string | null,
): Finding {
  const meta = VERIFY_RULES.blocked;
  const resource = target ? ksvcRef(target) : AUTOSCALER;
  return {
    code: meta.code,
    severity: meta.severity,
    message,
    resource,
    fix: meta.fix,
    docs: docsUrl(meta.code),
    reachability: {
      from: hop.split(' → ')[0] ?? '',
      to: target ? `${target.namespace}/${target.name}` : `${SERVING_NS}/autoscaler`,
      via: 'required-edge',
      hop,
      policy,
    },
  };
}
