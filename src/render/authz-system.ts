import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import { EVENTING_NS, SERVING_NS } from './constants.ts';

/** security.istio.io version per flavour: OSSM 2.x serves AuthorizationPolicy v1beta1 as storage. */
export function securityApiVersion(spec: ServerlessMeshSpec): string {
  return spec.mesh.flavor === 'ossm2' ? 'security.istio.io/v1beta1' : 'security.istio.io/v1';
}

const sa = (ns: string, name: string) => `cluster.local/ns/${ns}/sa/${name}`;

function policy(apiVersion: string, namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion, kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}

/** ALLOW `methods` to pods with `app.kubernetes.io/component: component`, from one knative-eventing service account. */
function eventingAllow(apiVersion: string, name: string, component: string, fromSa: string, method: string): KubeObject {
  return policy(apiVersion, EVENTING_NS, name, {
    action: 'ALLOW',
    selector: { matchLabels: { 'app.kubernetes.io/component': component } },
    rules: [
      {
        from: [{ source: { namespaces: [EVENTING_NS], principals: [sa(EVENTING_NS, fromSa)] } }],
        to: [{ operation: { methods: [method] } }],
      },
    ],
  });
}

/**
 * The system policies of docs chapter 2.3 step 2: deny everything in knative-serving and
 * knative-eventing that is not explicitly allowed, then open the Knative-internal paths.
 */
export function systemAuthorizationPolicies(spec: ServerlessMeshSpec): KubeObject[] {
  const v = securityApiVersion(spec);
  const out: KubeObject[] = [];
  // `spec: {}` is an ALLOW policy with no rules: it matches nothing, so every request to the
  // namespace is denied unless another ALLOW policy matches (Istio authorization-policy reference).
  if (spec.eventing.enabled) out.push(policy(v, EVENTING_NS, 'deny-all-by-default', {}));
  if (spec.serving.enabled) out.push(policy(v, SERVING_NS, 'deny-all-by-default', {}));
  if (spec.eventing.enabled) {
    out.push(
      eventingAllow(v, 'allow-mt-channel-based-broker-ingress-to-imc-dispatcher', 'imc-dispatcher', 'mt-broker-ingress', 'POST'),
      eventingAllow(v, 'allow-mt-channel-based-broker-ingress-to-kafka-channel', 'kafka-channel-receiver', 'mt-broker-ingress', 'POST'),
      eventingAllow(v, 'allow-kafka-channel-to-mt-channel-based-broker-filter', 'broker-filter', 'knative-kafka-channel-data-plane', 'POST'),
      eventingAllow(v, 'allow-imc-to-mt-channel-based-broker-filter', 'broker-filter', 'imc-dispatcher', 'POST'),
      eventingAllow(v, 'allow-probe-kafka-broker-receiver', 'kafka-broker-receiver', 'kafka-controller', 'GET'),
      eventingAllow(v, 'allow-probe-kafka-sink-receiver', 'kafka-sink-receiver', 'kafka-controller', 'GET'),
      eventingAllow(v, 'allow-probe-kafka-channel-receiver', 'kafka-channel-receiver', 'kafka-controller', 'GET'),
    );
  }
  if (spec.serving.enabled) {
    out.push(
      policy(v, SERVING_NS, 'allow-traffic-to-activator', {
        selector: { matchLabels: { app: 'activator' } },
        action: 'ALLOW',
        // The gateways (in the mesh namespace on OSSM 2.x) forward to the activator.
        rules: [{ from: [{ source: { namespaces: [SERVING_NS, spec.mesh.namespace] } }] }],
      }),
      policy(v, SERVING_NS, 'allow-traffic-to-autoscaler', {
        selector: { matchLabels: { app: 'autoscaler' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { namespaces: [SERVING_NS] } }] }],
      }),
    );
  }
  return out;
}
