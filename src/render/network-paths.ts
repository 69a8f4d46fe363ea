/**
 * The communication paths a Knative-in-the-mesh installation needs at the network layer (OSSM 3 and
 * upstream Istio, where nothing isolates namespaces unless the user does: research serverless-operator.md
 * §8.1, seed 000), as one table derived from what render emits — ports from model/constants.ts and the
 * flavour's gateway listeners — and the NetworkPolicies that admit exactly those paths
 * (`networkPolicies: generate`). docs/network-paths.md is the same table in prose; a test keeps the two
 * in step. Pure: no I/O.
 *
 * NetworkPolicy semantics used here (kubernetes.io/docs/concepts/services-networking/network-policies):
 * a pod selected by an Ingress policy accepts only what some policy selecting it admits; the policies
 * are ORed; a peer with namespaceSelector and podSelector matches pods with both; a rule without
 * `from` admits every source (the only way to admit host-network callers such as the kube-apiserver);
 * a rule without `ports` admits every port; traffic from the pod's own node (kubelet probes and the
 * PreStop hook) is always allowed. Policies are matched on the pod's container port, before the sidecar
 * redirects it (iptables runs inside the pod's network namespace).
 */
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import {
  AUTOSCALER_WS_PORT,
  EVENTING_NS,
  EVENTING_RECEIVER_PORT,
  KUBE_RBAC_PROXY_PORT,
  METADATA_NAME_LABEL,
  METRICS_PORT,
  QUEUE_H2C_PORT,
  QUEUE_HTTPS_PORT,
  QUEUE_PORT,
  SERVING_NS,
  USER_METRICS_PORT,
  WEBHOOK_PORT,
} from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';

/** Pods of one namespace; `pods` undefined means every pod of it. */
export interface PodSet {
  namespace: string;
  pods?: Record<string, string>;
}

export interface NetworkPath {
  /** Row of the table in docs/network-paths.md. */
  row: number;
  /** Name of the NetworkPolicy that admits it (unique in `to.namespace`). */
  name: string;
  /** Callers; `anywhere` for host-network or out-of-cluster callers no selector can name. */
  from: PodSet[] | 'anywhere';
  to: PodSet;
  /** Container ports; `all` for every port. */
  ports: number[] | 'all';
  why: string;
}

const component = (name: string) => ({ 'app.kubernetes.io/component': name });
const QUEUE_PORTS = [QUEUE_PORT, QUEUE_H2C_PORT, QUEUE_HTTPS_PORT];

/**
 * Every path, expanded per destination namespace. Rows 1–8 (system namespaces) and 9–12 (per
 * tenant namespace); docs/network-paths.md lists the paths that need no policy (node-local traffic,
 * egress, the control plane).
 */
export function networkPaths(spec: ServerlessMeshSpec, profile: FlavorProfile): NetworkPath[] {
  const g = profile.gateway;
  const gatewayNs = g.namespace(spec.mesh.namespace);
  const gateway: PodSet = { namespace: gatewayNs, pods: { knative: 'ingressgateway' } };
  const serving = spec.serving.enabled;
  const eventing = spec.eventing.enabled;
  const kafka = spec.kafka?.enabled ? spec.kafka : undefined;
  const tenantNs = spec.tenants.flatMap((t) => t.namespaces);
  // Mesh namespaces that call the activator and the eventing receivers (AuthorizationPolicies decide which ksvc).
  const clients: PodSet[] = [...tenantNs, ...spec.members].map((namespace) => ({ namespace }));
  const out: NetworkPath[] = [];
  const add = (p: NetworkPath) => out.push(p);

  if (serving) {
    for (const app of ['webhook', 'net-istio-webhook'])
      add({
        row: 1,
        name: `allow-apiserver-to-${app}`,
        from: 'anywhere',
        to: { namespace: SERVING_NS, pods: { app } },
        ports: [WEBHOOK_PORT],
        why: 'admission and conversion webhooks, called by the kube-apiserver (host network)',
      });
  }
  if (eventing) {
    const webhooks: Array<[string, Record<string, string>]> = [
      ['eventing-webhook', component('eventing-webhook')],
      ['imc-controller', component('imc-controller')],
      ...(kafka ? [['kafka-webhook-eventing', { app: 'kafka-webhook-eventing' }] as [string, Record<string, string>]] : []),
    ];
    for (const [name, pods] of webhooks)
      add({
        row: 1,
        name: `allow-apiserver-to-${name}`,
        from: 'anywhere',
        to: { namespace: EVENTING_NS, pods },
        ports: [WEBHOOK_PORT],
        why: 'admission and conversion webhooks, called by the kube-apiserver (host network)',
      });
  }
  if (spec.metrics.enabled) {
    const monitoring = [{ namespace: spec.metrics.monitoringNamespace }];
    for (const ns of [...(serving ? [SERVING_NS] : []), ...(eventing ? [EVENTING_NS] : [])])
      add({
        row: 2,
        name: 'allow-monitoring-to-metrics',
        from: monitoring,
        to: { namespace: ns },
        ports: [KUBE_RBAC_PROXY_PORT, METRICS_PORT, USER_METRICS_PORT],
        why: 'cluster monitoring scrapes the Knative components (kube-rbac-proxy and metrics ports)',
      });
  }
  if (serving) {
    add({
      row: 3,
      name: 'allow-to-external-listener',
      from: 'anywhere',
      to: gateway,
      ports: [g.external.containerPort],
      why: 'the external listener (knative-ingress-gateway): OpenShift router passthrough Routes / outside clients; net-istio-controller probes',
    });
    // The cluster-local listener is plain HTTP on the tested setup: limited to the mesh namespaces, the
    // external listener's DomainMapping hop and the prober (a caller from any other namespace would get
    // the gateway's identity, which every tenant admits; docs/flavours.md).
    add({
      row: 4,
      name: 'allow-to-local-listener',
      from: [
        { namespace: SERVING_NS, pods: { app: 'net-istio-controller' } },
        gateway,
        ...(eventing ? [{ namespace: EVENTING_NS }] : []),
        ...clients,
      ],
      to: gateway,
      ports: [g.local.containerPort],
      why: 'the cluster-local listener (knative-local-gateway): mesh namespaces, the eventing data plane, DomainMapping (external → local gateway), net-istio-controller probes',
    });
    add({
      row: 5,
      name: 'allow-to-activator',
      from: [gateway, ...(eventing ? [{ namespace: EVENTING_NS }] : []), ...clients],
      to: { namespace: SERVING_NS, pods: { app: 'activator' } },
      ports: QUEUE_PORTS,
      why: 'requests for a ksvc whose revision has the activator in its path: from the gateway, the eventing data plane and the mesh namespaces',
    });
    add({
      row: 6,
      name: 'allow-to-autoscaler',
      from: [
        { namespace: SERVING_NS, pods: { app: 'activator' } },
        { namespace: SERVING_NS, pods: { app: 'autoscaler' } },
      ],
      to: { namespace: SERVING_NS, pods: { app: 'autoscaler' } },
      ports: [AUTOSCALER_WS_PORT],
      why: 'activator → autoscaler statistics websocket; autoscaler replicas to each other (same port, by pod IP)',
    });
  }
  if (eventing) {
    const receivers = ['broker-ingress', 'imc-dispatcher', 'job-sink'];
    if (kafka?.broker) receivers.push('kafka-broker-receiver');
    if (kafka?.channel) receivers.push('kafka-channel-receiver');
    if (kafka?.sink) receivers.push('kafka-sink-receiver');
    if (clients.length > 0)
      for (const r of receivers)
        add({
          row: 7,
          name: `allow-to-${r}`,
          from: clients,
          to: { namespace: EVENTING_NS, pods: component(r) },
          ports: [EVENTING_RECEIVER_PORT],
          why: 'events sent by the mesh namespaces to brokers, channels, sinks and job sinks',
        });
    add({
      row: 8,
      name: 'allow-eventing-internal',
      from: [{ namespace: EVENTING_NS }],
      to: { namespace: EVENTING_NS },
      ports: 'all',
      why: 'eventing data plane inside knative-eventing: broker ingress → channels, channels → broker filter, kafka-controller probes, replies',
    });
  }

  for (const t of spec.tenants) {
    for (const ns of t.namespaces) {
      if (serving) {
        add({
          row: 9,
          name: 'allow-knative-to-revisions',
          from: [gateway, { namespace: SERVING_NS, pods: { app: 'activator' } }],
          to: { namespace: ns },
          ports: QUEUE_PORTS,
          why: 'the gateway (activator out of path) and the activator forward requests to the queue-proxy; activator readiness probes',
        });
        add({
          row: 10,
          name: 'allow-autoscaler-metrics',
          from: [{ namespace: SERVING_NS, pods: { app: 'autoscaler' } }],
          to: { namespace: ns },
          ports: [METRICS_PORT],
          why: 'the autoscaler scrapes queue-proxy metrics (port excluded from sidecar capture)',
        });
      }
      if (eventing)
        add({
          row: 11,
          name: 'allow-eventing-delivery',
          from: [{ namespace: EVENTING_NS }],
          to: { namespace: ns },
          ports: 'all',
          why: 'sources, triggers, subscriptions and replies deliver to the tenant’s sinks (any Service port); the Kn-Namespace AuthorizationPolicy decides which',
        });
      add({
        row: 12,
        name: 'allow-same-tenant',
        from: t.namespaces.map((namespace) => ({ namespace })),
        to: { namespace: ns },
        ports: 'all',
        why: `namespaces of tenant ${t.name} reach each other`,
      });
    }
  }
  return out;
}

const byName = (namespace: string) => ({ namespaceSelector: { matchLabels: { [METADATA_NAME_LABEL]: namespace } } });

/**
 * One Ingress NetworkPolicy per path. Namespaces are selected by `kubernetes.io/metadata.name`, which
 * the apiserver sets on every namespace (Kubernetes ≥ 1.21), so no label of ours is trusted for it.
 */
export function networkPathPolicies(paths: readonly NetworkPath[]): KubeObject[] {
  return paths.map((p) => {
    const rule: Record<string, unknown> = {};
    if (p.from !== 'anywhere')
      rule.from = p.from.map((f) =>
        f.pods ? { ...byName(f.namespace), podSelector: { matchLabels: { ...f.pods } } } : byName(f.namespace),
      );
    if (p.ports !== 'all') rule.ports = p.ports.map((port) => ({ protocol: 'TCP', port }));
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: p.name, namespace: p.to.namespace },
      spec: { podSelector: p.to.pods ? { matchLabels: { ...p.to.pods } } : {}, policyTypes: ['Ingress'], ingress: [rule] },
    };
  });
}
