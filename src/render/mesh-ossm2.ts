import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import { EVENTING_NS, SERVING_NS } from './constants.ts';

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
    security: { dataPlane: { mtls: !withKourier } },
    techPreview: { meshConfig: { defaultConfig: { terminationDrainDuration: '35s' } } },
    ...(withKourier
      ? {}
      : { gateways: { ingress: { service: { metadata: { labels: { knative: 'ingressgateway' } } } } } }),
    proxy: { networking: { trafficControl: { inbound: { excludedPorts: [8444, 8022] } } } },
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
