/**
 * OpenShift Service Mesh 2.x (Maistra): a ServiceMeshControlPlane and a member roll; the control plane
 * runs the ingress gateway in its own namespace; sidecars are per-pod opt-in inside member namespaces
 * (seed 001 §1.4, research serverless-operator.md §3 and §8).
 */
import type { ServerlessMeshSpec } from '../api/types.ts';
import { ADMIN_PORT, EVENTING_NS, INJECT, KUBE_RBAC_PROXY_PORT, REWRITE_PROBES, SERVING_NS } from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';
import { streamIdleTimeoutFilter } from './envoy-filter.ts';
import type { FlavorProfile } from './types.ts';

const EXCLUDED_INBOUND = [KUBE_RBAC_PROXY_PORT, ADMIN_PORT];

/**
 * ServiceMeshControlPlane (maistra.io/v2) with the settings Knative needs (docs §1.4.2):
 * strict mTLS, a proxy drain longer than Knative's 30 s graceful termination, the
 * `knative: ingressgateway` label the Knative Gateways select, and the inbound ports that
 * non-mesh callers (kubelet PreStop 8022, cluster monitoring 8444) must reach without mTLS.
 */
export function serviceMeshControlPlane(spec: ServerlessMeshSpec): KubeObject {
  const withKourier = spec.ingress === 'kourier';
  const smcpSpec: Record<string, unknown> = {
    ...(spec.mesh.version ? { version: spec.mesh.version } : {}),
    profiles: ['default'],
    // With Kourier kept (docs §1.6) the Knative gateway and system pods stay outside the
    // mesh, so strict mTLS would cut them off from injected services.
    // manageNetworkPolicy pairs with the operator's NetworkPolicy generation (seed 001: with
    // manageNetworkPolicy false, generation must be disabled): both on, or both off.
    security: { dataPlane: { mtls: !withKourier }, ...(spec.networkPolicies === 'disabled' ? { manageNetworkPolicy: false } : {}) },
    techPreview: { meshConfig: { defaultConfig: { terminationDrainDuration: '35s' } } },
    ...(withKourier ? {} : { gateways: { ingress: { service: { metadata: { labels: { knative: 'ingressgateway' } } } } } }),
    proxy: { networking: { trafficControl: { inbound: { excludedPorts: EXCLUDED_INBOUND } } } },
  };
  return {
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name: spec.mesh.controlPlane, namespace: spec.mesh.namespace },
    spec: smcpSpec,
  };
}

/**
 * Mesh membership (OSSM 2.x has no namespace-label discovery): the Knative system namespaces,
 * the extra members and every tenant namespace. With Kourier only user namespaces join (§1.6).
 */
export function serviceMeshMemberRoll(spec: ServerlessMeshSpec): KubeObject {
  const system = spec.ingress === 'kourier' ? [] : [SERVING_NS, EVENTING_NS];
  const members = [...system, ...spec.members, ...spec.tenants.flatMap((t) => t.namespaces)];
  return {
    apiVersion: 'maistra.io/v1',
    kind: 'ServiceMeshMemberRoll',
    metadata: { name: 'default', namespace: spec.mesh.namespace },
    spec: { members },
  };
}

const maistra = (version: string, kind: string) => ({ apiVersion: `maistra.io/${version}`, kind });

export const ossm2: FlavorProfile = {
  flavor: 'ossm2',
  title: 'OpenShift Service Mesh 2.x (Maistra)',
  defaultControlPlane: 'basic',
  versionProblem: (v) => {
    const m = /^v(\d+)\.(\d+)(\.\d+)?$/.exec(v);
    if (!m) return `invalid version "${v}" for ossm2: expected vMAJOR.MINOR (e.g. v2.6)`;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    // Seed 001 prerequisites: Serverless with Service Mesh needs 2.2 or later (2.0.5 for secret filtering).
    if (major !== 2) return `version "${v}" is not an OpenShift Service Mesh 2.x version (use flavor ossm3 for 3.x)`;
    if (minor < 2) return `OpenShift Serverless needs Service Mesh 2.2 or later, got "${v}"`;
    return undefined;
  },
  // Maistra 2.5 serves networking.istio.io v1alpha3/v1beta1 only, and PeerAuthentication only as v1beta1.
  api: { networking: 'networking.istio.io/v1alpha3', security: 'security.istio.io/v1beta1' },
  detectGroup: 'maistra.io',
  controlPlaneNamespaces: (spec) => [spec.mesh.namespace],
  controlPlane: (spec) => [serviceMeshControlPlane(spec)],
  membership: (spec) => [serviceMeshMemberRoll(spec)],
  meshPolicies: (spec) => (spec.mesh.longRunningRequests ? [streamIdleTimeoutFilter(spec)] : []),
  excludedInboundPorts: EXCLUDED_INBOUND,
  injection: {
    mode: 'pod-opt-in',
    namespaceLabels: () => ({}),
    labelSystemNamespaces: false,
    // Pod label, not the deprecated annotation (Istio IST0135); probe rewriting is explicit on Maistra.
    optIn: { labels: { [INJECT]: 'true' }, annotations: { [REWRITE_PROBES]: 'true' } },
    servingOptInField: 'deployments',
  },
  gateway: {
    namespace: (meshNamespace) => meshNamespace,
    workload: {
      name: 'istio-ingressgateway',
      serviceAccount: 'istio-ingressgateway-service-account',
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway', knative: 'ingressgateway' },
    },
    managedDeployment: false,
    ingressService: { name: 'istio-ingressgateway', external: true },
    localService: { selector: { istio: 'ingressgateway' }, ports: [{ name: 'http2', port: 80, targetPort: 8081 }] },
    ingressSelector: { knative: 'ingressgateway' },
    localSelector: { knative: 'ingressgateway' },
    external: { port: 443, name: 'https', protocol: 'HTTPS', tls: 'SIMPLE', containerPort: 8443 },
    local: { port: 8081, name: 'https', protocol: 'HTTPS', tls: 'ISTIO_MUTUAL', containerPort: 8081 },
  },
  authz: {
    gatewaySourceNamespaces: (spec) => [spec.mesh.namespace],
    tenantSystemSources: (spec) => [SERVING_NS, 'knative-serving-ingress', spec.mesh.namespace],
    ingressGatewayPolicy: false,
    externalCaller: { namespace: 'openshift-ingress', serviceAccount: 'router', name: 'router' },
  },
  apply: {
    controlPlaneKinds: [maistra('v2', 'ServiceMeshControlPlane')],
    membershipKinds: [maistra('v1', 'ServiceMeshMemberRoll'), maistra('v1', 'ServiceMeshMember')],
    readyKinds: [maistra('v2', 'ServiceMeshControlPlane'), maistra('v1', 'ServiceMeshMemberRoll')],
    pruneKinds: [maistra('v2', 'ServiceMeshControlPlane'), maistra('v1', 'ServiceMeshMemberRoll'), maistra('v1', 'ServiceMeshMember')],
    requiredCrd: { name: 'servicemeshcontrolplanes.maistra.io', operator: 'OpenShift Service Mesh 2.x operator (servicemeshoperator)' },
  },
  networkPolicies: { default: 'generate', generatedBy: 'operator' },
  kourier: true,
};
