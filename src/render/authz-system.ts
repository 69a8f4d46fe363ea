import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import { EVENTING_NS, principal, SERVING_NS } from '../model/constants.ts';

const sa = principal;

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
export function systemAuthorizationPolicies(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject[] {
  const v = profile.api.security;
  const out: KubeObject[] = [];
  // `spec: {}` is an ALLOW policy with no rules: it matches nothing, so every request to the
  // namespace is denied unless another ALLOW policy matches (Istio authorization-policy reference).
  if (spec.eventing.enabled) out.push(policy(v, EVENTING_NS, 'deny-all-by-default', {}));
  if (spec.serving.enabled) out.push(policy(v, SERVING_NS, 'deny-all-by-default', {}));
  if (spec.eventing.enabled) {
    out.push(
      eventingAllow(v, 'allow-mt-channel-based-broker-ingress-to-imc-dispatcher', 'imc-dispatcher', 'mt-broker-ingress', 'POST'),
      eventingAllow(v, 'allow-mt-channel-based-broker-ingress-to-kafka-channel', 'kafka-channel-receiver', 'mt-broker-ingress', 'POST'),
      eventingAllow(
        v,
        'allow-kafka-channel-to-mt-channel-based-broker-filter',
        'broker-filter',
        'knative-kafka-channel-data-plane',
        'POST',
      ),
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
        // The gateways (in the mesh namespace on OSSM 2.x, knative-serving-ingress otherwise) forward to the activator.
        rules: [{ from: [{ source: { namespaces: [SERVING_NS, ...profile.authz.gatewaySourceNamespaces(spec)] } }] }],
      }),
      policy(v, SERVING_NS, 'allow-traffic-to-autoscaler', {
        selector: { matchLabels: { app: 'autoscaler' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { namespaces: [SERVING_NS] } }] }],
      }),
    );
  }
  if (spec.serving.enabled && profile.authz.ingressGatewayPolicy) {
    // The gateway's own namespace is under no deny-all, but the tested setup pins down who may call
    // it: the Knative namespaces, and anyone on the listener ports (research §5, §9.3: cross-tenant
    // calls through the local gateway are stopped later, at the activator or the target).
    const g = profile.gateway;
    out.push(
      policy(v, g.namespace(spec.mesh.namespace), 'allow-traffic-to-ingress-gateway', {
        selector: { matchLabels: { knative: 'ingressgateway' } },
        action: 'ALLOW',
        rules: [
          { from: [{ source: { namespaces: [SERVING_NS, g.namespace(spec.mesh.namespace)] } }] },
          { to: [{ operation: { ports: [String(g.local.containerPort), String(g.external.containerPort)] } }] },
        ],
      }),
    );
  }
  return out;
}
