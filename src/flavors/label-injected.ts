/**
 * What OSSM 3.x and upstream Istio share: the data plane of the serverless-operator's tested OSSM 3
 * setup (research serverless-operator.md §4, §4.1): namespaces join the mesh by injection label,
 * Knative runs its own gateway in knative-serving-ingress, mTLS is a STRICT PeerAuthentication.
 */
import type { ServerlessMeshSpec } from '../api/types.ts';
import {
  ADMIN_PORT,
  INJECT,
  ISTIO_INJECTION,
  ISTIO_REV,
  KUBE_RBAC_PROXY_PORT,
  METRICS_PORT,
  SERVING_INGRESS_NS,
  SERVING_NS,
} from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';
import { streamIdleTimeoutFilter } from './envoy-filter.ts';
import type { AuthzProfile, GatewayProfile, InjectionProfile } from './types.ts';

/** 8022 kubelet PreStop, 8444 kube-rbac-proxy, 9090 autoscaler → queue-proxy metrics (tested setup; the docs omit it). */
export const LABEL_INJECTED_EXCLUDED_PORTS = [ADMIN_PORT, KUBE_RBAC_PROXY_PORT, METRICS_PORT];

/**
 * The revision a namespace label selects. Istio's default revision answers `istio-injection: enabled`;
 * sail-operator names an InPlace revision after the Istio CR, so only an Istio CR named `default`
 * is reached by that label (research §4.1); any other name needs `istio.io/rev: <name>`.
 */
export function revisionOf(spec: ServerlessMeshSpec): string | undefined {
  return spec.mesh.revision ?? (spec.mesh.controlPlane === 'default' ? undefined : spec.mesh.controlPlane);
}

export const injectionByLabel: InjectionProfile = {
  mode: 'namespace-label',
  namespaceLabels: (spec): Record<string, string> => {
    const rev = revisionOf(spec);
    return rev ? { [ISTIO_REV]: rev } : { [ISTIO_INJECTION]: 'enabled' };
  },
  labelSystemNamespaces: true,
  // Probe rewriting is Istio's default since 1.10: the tested setup sets no annotation.
  optIn: { labels: { [INJECT]: 'true' } },
  servingOptInField: 'workloads',
  optOut: { labels: { [INJECT]: 'false' } },
};

const GATEWAY_LABELS = {
  knative: 'ingressgateway',
  'knative-ingress-gateway': 'ingressgateway',
  'knative-local-gateway': 'ingressgateway',
};

/** Gateway pods of the tested setup: one Deployment serving the external HTTPS and the cluster-local HTTP listener. */
export const ownGateway: GatewayProfile = {
  namespace: () => SERVING_INGRESS_NS,
  workload: { name: 'knative-istio-ingressgateway', serviceAccount: 'default', labels: GATEWAY_LABELS },
  managedDeployment: true,
  ingressService: {
    name: 'knative-istio-ingressgateway',
    selector: { 'knative-ingress-gateway': 'ingressgateway' },
    ports: [
      { name: 'http2', port: 80, targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 8443 },
    ],
  },
  localService: { selector: { knative: 'ingressgateway' }, ports: [{ name: 'http2', port: 80, targetPort: 8080 }] },
  ingressSelector: { 'knative-ingress-gateway': 'ingressgateway' },
  localSelector: { 'knative-local-gateway': 'ingressgateway' },
  external: { port: 443, name: 'https', protocol: 'HTTPS', tls: 'SIMPLE', containerPort: 8443 },
  // Plain HTTP: Gateway port 80, translated to container port 8080 through the ingress Service (§4.1).
  local: { port: 80, name: 'http', protocol: 'HTTP', tls: 'PLAINTEXT', containerPort: 8080 },
};

export const labelInjectedAuthz: Omit<AuthzProfile, 'externalCaller'> = {
  gatewaySourceNamespaces: () => [SERVING_INGRESS_NS],
  // §6.7: the OSSM 3 copies of the chart drop the control-plane namespace (no gateway runs there).
  tenantSystemSources: () => [SERVING_NS, SERVING_INGRESS_NS],
  ingressGatewayPolicy: true,
};

/**
 * Mesh-wide STRICT mTLS in the root namespace, with the exception the tested setup needs: autoscalers
 * reach each other by pod IP on the websocket port, which bypasses mTLS (research §4.1, §6.8). Plus the
 * stream idle timeout EnvoyFilter on request.
 */
export function labelInjectedMeshPolicies(spec: ServerlessMeshSpec, securityApi: string): KubeObject[] {
  const out: KubeObject[] = [
    {
      apiVersion: securityApi,
      kind: 'PeerAuthentication',
      metadata: { name: 'mesh-mtls', namespace: spec.mesh.namespace },
      spec: { mtls: { mode: 'STRICT' } },
    },
  ];
  if (spec.serving.enabled) {
    out.push({
      apiVersion: securityApi,
      kind: 'PeerAuthentication',
      metadata: { name: 'autoscaler-permissive', namespace: SERVING_NS },
      spec: { selector: { matchLabels: { app: 'autoscaler' } }, mtls: { mode: 'PERMISSIVE' } },
    });
  }
  if (spec.mesh.longRunningRequests) out.push(streamIdleTimeoutFilter(spec));
  return out;
}

export const SAIL = (kind: string) => ({ apiVersion: 'sailoperator.io/v1', kind });
