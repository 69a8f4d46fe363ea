/** verify's findings: codes, metadata (docs/rules.md) and constructors. */
import type { Ksvc } from '../authz/knative.ts';
import { SERVING_NS } from '../model/constants.ts';
import { docsUrl, type Finding, type Reachability, type ResourceRef } from '../report/finding.ts';
import type { RuleDescriptor } from '../report/render.ts';

/** A verify rule; `source` is where its semantics come from (docs/rules.md), default research users-and-anchors.md P2. */
export type VerifyRule = RuleDescriptor & { source?: string };

const LIVE_SOURCE = 'docs §2.4 (verifying the configuration with curl); Envoy RBAC filter (403 "RBAC: access denied")';

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
  liveReached: {
    code: 'SM5004',
    name: 'live-reached-predicted-refused',
    title: 'Live probe reached a service the model refuses',
    description:
      '`verify --live`: a probe pod reached the Knative Service (an HTTP answer from the application, queue-proxy or activator) on a path where the simulator predicts the mesh refuses the request. Either the cluster runs other policies than the ones verified (drift, a policy outside the manifests) or the simulator is wrong; for a cross-tenant pair it is a live leak.',
    severity: 'error',
    fix: 'Compare the live AuthorizationPolicies/PeerAuthentications with the verified manifests (`serverless-mesh diff`); if they match, report the case as a simulator bug with the probe output.',
    source: LIVE_SOURCE,
  },
  liveRefused: {
    code: 'SM5005',
    name: 'live-refused-predicted-allowed',
    title: 'Live probe refused where the model allows',
    description:
      '`verify --live`: the mesh refused a probe request (HTTP 403 `RBAC: access denied` from Envoy, or the connection reset by a sidecar enforcing STRICT mTLS or a TCP policy) on a path where the simulator predicts the request is allowed.',
    severity: 'error',
    fix: 'Look for a policy on the cluster that the verified manifests lack (a DENY, a narrower ALLOW), a missing sidecar on the target, or a PeerAuthentication the manifests do not show.',
    source: LIVE_SOURCE,
  },
  liveUnknown: {
    code: 'SM5006',
    name: 'live-outcome-unknown',
    title: 'Live probe outcome unknown',
    description:
      '`verify --live`: a probe request neither reached the service nor was refused by the mesh: timeout, DNS failure, connection refused, TLS verification failure, `503 no healthy upstream`, or no result line at all. It is counted as neither allowed nor refused.',
    severity: 'warning',
    fix: 'Check that the Knative Service is Ready and scales from zero within --request-timeout, that NetworkPolicies admit the probe namespace, and that --ca-file is the root CA of the external certificate.',
    source: LIVE_SOURCE,
  },
  liveNotRun: {
    code: 'SM5007',
    name: 'live-probe-not-run',
    title: 'Live probe could not run',
    description:
      '`verify --live`: the requests from a namespace, or to a Knative Service, were not made: creating the probe pod was forbidden or rejected, the pod did not start in time, its sidecar injection differs from the one requested, exec into it failed, or the Knative Service is not on the cluster.',
    severity: 'error',
    fix: 'Grant create/get/delete/deletecollection on pods and get+create on pods/exec in the namespace, let the probe image be pulled (or pass --probe-image), and deploy the Knative Services the spec names.',
    source: LIVE_SOURCE,
  },
} as const satisfies Record<string, VerifyRule>;

export const verifyRuleDescriptors = (): RuleDescriptor[] => Object.values(VERIFY_RULES);

export const ksvcRef = (k: Pick<Ksvc, 'namespace' | 'name'>): ResourceRef => ({
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  namespace: k.namespace,
  name: k.name,
});
const AUTOSCALER: ResourceRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: SERVING_NS, name: 'autoscaler' };

/** A finding of one verify rule: the rule's code, severity, fix and docs link, and what this case says. */
export function verifyFinding(meta: VerifyRule, message: string, resource: ResourceRef, reachability?: Reachability): Finding {
  return {
    code: meta.code,
    severity: meta.severity,
    message,
    resource,
    fix: meta.fix,
    docs: docsUrl(meta.code),
    ...(reachability ? { reachability } : {}),
  };
}

export function reachabilityFinding(
  which: 'leak' | 'broken',
  target: Pick<Ksvc, 'namespace' | 'name'> | ResourceRef,
  message: string,
  r: Reachability,
): Finding {
  const meta = VERIFY_RULES[which];
  const resource = 'kind' in target ? target : ksvcRef(target);
  return verifyFinding(meta, message, resource, r);
}

export function blockedFinding(
  target: Pick<Ksvc, 'namespace' | 'name'> | null,
  message: string,
  hop: string,
  policy: string | null,
): Finding {
  const meta = VERIFY_RULES.blocked;
  const resource = target ? ksvcRef(target) : AUTOSCALER;
  return verifyFinding(meta, message, resource, {
    from: hop.split(' → ')[0] ?? '',
    to: target ? `${target.namespace}/${target.name}` : `${SERVING_NS}/autoscaler`,
    via: 'required-edge',
    hop,
    policy,
  });
}
