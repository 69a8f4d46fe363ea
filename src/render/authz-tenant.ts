import type { ServerlessMeshSpec, Tenant } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import { CLUSTER_DOMAIN, EVENTING_NS, principal as principalOf, SERVING_NS } from '../model/constants.ts';

/** Eventing receivers a tenant may send to (chart values `eventing.receivers`: name → shortName). */
const EVENTING_RECEIVERS: ReadonlyArray<[string, string]> = [
  ['imc-dispatcher', 'imc'],
  ['kafka-broker-receiver', 'ekb'],
  ['kafka-channel-receiver', 'ekc'],
  ['kafka-sink-receiver', 'eks'],
  ['broker-ingress', 'broker-ingress'],
  ['job-sink', 'job-sink'],
];

/** knative-eventing service accounts that deliver events on a tenant's behalf (chart `sendersServiceAccounts`). */
const EVENTING_SENDERS = [
  'pingsource-mt-adapter',
  'imc-dispatcher',
  'mt-broker-filter',
  'knative-kafka-source-data-plane',
  'knative-kafka-broker-data-plane',
  'knative-kafka-channel-data-plane',
];

const principal = (name: string) => principalOf(EVENTING_NS, name);

/**
 * Per-tenant AuthorizationPolicies: a re-implementation of the `redhat-knative-istio-authz` Helm
 * chart (research §6), same names, selectors, rules and order, 2n+9 policies for n namespaces.
 * Isolation of the tenant's own namespaces comes from `allow-from-knative-and-istio` being an
 * ALLOW policy (a workload with any ALLOW policy denies what none matches); calls via the
 * activator are authorised at the activator by Host; eventing calls by path or Host plus the
 * `Kn-Namespace` header set by the eventing data plane.
 */
export function tenantAuthorizationPolicies(spec: ServerlessMeshSpec, profile: FlavorProfile, tenant: Tenant): KubeObject[] {
  const v = profile.api.security;
  const ns = tenant.namespaces;
  const serving = spec.serving.enabled;
  const eventing = spec.eventing.enabled;
  const hosts = ns.flatMap((n) => [`*.${n}`, `*.${n}.svc`, `*.${n}.svc.${CLUSTER_DOMAIN}`]);
  const paths = ns.map((n) => `/${n}/*`);
  const knNamespace = [{ key: 'request.headers[Kn-Namespace]', values: [...ns] }];
  const senders = { source: { namespaces: [EVENTING_NS], principals: EVENTING_SENDERS.map(principal) } };
  const ap = (namespace: string, name: string, body: Record<string, unknown>): KubeObject => ({
    apiVersion: v,
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace },
    spec: { action: 'ALLOW', ...body },
  });
  const component = (name: string) => ({ matchLabels: { 'app.kubernetes.io/component': name } });
  const out: KubeObject[] = [];

  // #1 common-allow-knative-to-ns: one per namespace, no selector (whole namespace).
  // OSSM 3 variant (§6.7) drops the control-plane namespace: the gateways live in knative-serving-ingress.
  const systemSources = profile.authz.tenantSystemSources(spec);
  for (const n of ns) {
    const rules: unknown[] = [];
    if (serving) rules.push({ from: [{ source: { namespaces: [...ns, ...systemSources] } }] });
    if (eventing) rules.push({ from: [{ source: { namespaces: [EVENTING_NS] } }], when: knNamespace });
    out.push(ap(n, 'allow-from-knative-and-istio', { rules }));
  }

  // #2 common-allow-via-knative-serving: requests for the tenant's ksvcs through the activator.
  {
    const rules: unknown[] = [];
    if (serving) rules.push({ from: [{ source: { namespaces: [...ns] } }], to: [{ operation: { hosts } }] });
    if (eventing) rules.push({ from: [senders], to: [{ operation: { hosts } }], when: knNamespace });
    out.push(ap(SERVING_NS, `allow-${tenant.name}-to-activator`, { selector: component('activator'), rules }));
  }

  if (eventing) {
    // #3 replies through the Kafka broker.
    out.push(
      ap(EVENTING_NS, `allow-${tenant.name}-kafka-broker-reply`, {
        selector: component('kafka-broker-receiver'),
        rules: [
          {
            from: [{ source: { namespaces: [EVENTING_NS], principals: [principal('knative-kafka-broker-data-plane')] } }],
            to: [{ operation: { paths } }],
            when: knNamespace,
          },
        ],
      }),
    );
    // #4 replies through the channel-based broker.
    out.push(
      ap(EVENTING_NS, `allow-${tenant.name}-mt-channel-based-broker-reply`, {
        selector: component('broker-ingress'),
        rules: [
          {
            from: [
              {
                source: {
                  namespaces: [EVENTING_NS],
                  principals: ['imc-dispatcher', 'mt-broker-filter', 'knative-kafka-channel-data-plane'].map(principal),
                },
              },
            ],
            to: [{ operation: { paths } }],
            when: knNamespace,
          },
        ],
      }),
    );
    // #5–#10 the eventing receivers.
    for (const [name, shortName] of EVENTING_RECEIVERS) {
      out.push(
        ap(EVENTING_NS, `allow-${tenant.name}-to-${shortName}`, {
          selector: component(name),
          rules: [
            { from: [{ source: { namespaces: [...ns] } }], to: [{ operation: { paths } }, { operation: { hosts } }] },
            { from: [senders], to: [{ operation: { hosts } }], when: knNamespace },
            { from: [senders], to: [{ operation: { paths } }], when: knNamespace },
          ],
        }),
      );
    }
  }

  // #11 kubelet PreStop `wait-for-drain` on the queue-proxy admin port, from outside the mesh.
  if (serving) {
    for (const n of ns) out.push(ap(n, 'allow-wait-for-drain', { rules: [{ to: [{ operation: { ports: ['8022'] } }] }] }));
  }
  return out;
}
