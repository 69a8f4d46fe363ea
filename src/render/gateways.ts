import type { V1Service } from '@kubernetes/client-node';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import { SERVING_NS } from './constants.ts';

/** networking.istio.io version served by each flavour (OSSM 2.x serves only v1alpha3/v1beta1). */
export function networkingApiVersion(spec: ServerlessMeshSpec): string {
  return spec.mesh.flavor === 'ossm2' ? 'networking.istio.io/v1alpha3' : 'networking.istio.io/v1';
}

/**
 * The two Knative gateways (docs §1.4.2 step 4) and the cluster-local Service in front of the
 * local one. The local gateway serves ISTIO_MUTUAL on 8081, so only in-mesh clients can use it.
 */
export function knativeGateways(spec: ServerlessMeshSpec): KubeObject[] {
  const gateway = (name: string, server: Record<string, unknown>): KubeObject => ({
    apiVersion: networkingApiVersion(spec),
    kind: 'Gateway',
    metadata: { name, namespace: SERVING_NS },
    spec: { selector: { knative: 'ingressgateway' }, servers: [server] },
  });
  return [
    gateway('knative-ingress-gateway', {
      port: { number: 443, name: 'https', protocol: 'HTTPS' },
      hosts: ['*'],
      tls: { mode: 'SIMPLE', credentialName: spec.tls.secretName },
    }),
    gateway('knative-local-gateway', {
      port: { number: 8081, name: 'https', protocol: 'HTTPS' },
      tls: { mode: 'ISTIO_MUTUAL' },
      hosts: ['*'],
    }),
    localGatewayService(spec),
  ];
}

function localGatewayService(spec: ServerlessMeshSpec): KubeObject {
  const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'knative-local-gateway',
        namespace: spec.mesh.namespace,
        // Port 80 of this Service maps to gateway port 8081; without this label Istio would
        // translate the Gateway's port number to the Service port and miss the listener.
        labels: { 'experimental.istio.io/disable-gateway-port-translation': 'true' },
      },
      spec: {
        type: 'ClusterIP',
        selector: { istio: 'ingressgateway' },
        // protocol spelled out: it is a key of the ports list map, and server-side apply before
      // Kubernetes 1.21 rejects an entry without it.
      ports: [{ name: 'http2', port: 80, targetPort: 8081, protocol: 'TCP' }],
      },
  } satisfies V1Service;
  return service;
}
