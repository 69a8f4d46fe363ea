/**
 * Names fixed by Knative, OpenShift Serverless, Istio and the documented procedure: one symbol per
 * concept, imported by render, the authorization model, check and the cluster layer alike.
 */
export const SERVING_NS = 'knative-serving';
export const SERVING_INGRESS_NS = 'knative-serving-ingress';
export const EVENTING_NS = 'knative-eventing';
export const SERVERLESS_OPERATOR_NS = 'openshift-serverless';
/** Cluster monitoring: the namespace the Serverless operator's generated NetworkPolicies admit. */
export const OPENSHIFT_MONITORING_NS = 'openshift-monitoring';
/** Kubernetes cluster domain: `<svc>.<ns>.svc.cluster.local`, and Istio's default trust domain. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** Namespaces owned by Knative / the Serverless operator: never a tenant or member namespace. */
export const KNATIVE_SYSTEM_NAMESPACES = [SERVING_NS, SERVING_INGRESS_NS, EVENTING_NS, SERVERLESS_OPERATOR_NS] as const;

/**
 * Label carrying a namespace's tenant. The contract between render (which writes it) and the
 * authorization model / check (which read it to recover tenants from manifests or a cluster).
 */
export const TENANT_LABEL = 'serverlessmesh.dev/tenant';

export const INJECT = 'sidecar.istio.io/inject';
export const REWRITE_PROBES = 'sidecar.istio.io/rewriteAppHTTPProbers';
/** Namespace label of Istio's default-revision injection webhook. */
export const ISTIO_INJECTION = 'istio-injection';
/** Namespace / pod label selecting a named control-plane revision. */
export const ISTIO_REV = 'istio.io/rev';
export const INJECT_TEMPLATES = 'inject.istio.io/templates';
export const EXCLUDE_INBOUND_PORTS = 'traffic.sidecar.istio.io/excludeInboundPorts';
export const PASSTHROUGH = 'serving.knative.openshift.io/enablePassthrough';
export const DISABLE_NETPOL = 'serverless.openshift.io/disable-istio-net-policies-generation';
export const PART_OF = 'knative.openshift.io/part-of';
export const CERT_UID = 'networking.internal.knative.dev/certificate-uid';
export const SECRET_FILTERING_ENV = 'ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID';
export const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Istio: keep the Gateway's port number instead of translating it through the Service (local gateway). */
export const DISABLE_PORT_TRANSLATION = 'experimental.istio.io/disable-gateway-port-translation';

/** Knative networking ports (knative.dev/serving/pkg/networking/constants.go). */
export const QUEUE_PORT = 8012; // BackendHTTPPort: queue-proxy / activator HTTP/1
export const QUEUE_H2C_PORT = 8013; // BackendHTTP2Port
export const QUEUE_HTTPS_PORT = 8112; // BackendHTTPSPort
export const ADMIN_PORT = 8022; // QueueAdminPort: kubelet PreStop wait-for-drain
export const METRICS_PORT = 9090; // AutoscalingQueueMetricsPort, scraped by the autoscaler
export const USER_METRICS_PORT = 9091; // UserQueueMetricsPort
export const AUTOSCALER_WS_PORT = 8080; // activator → autoscaler statistics websocket
/** kube-rbac-proxy metrics port of the Knative system pods, scraped by cluster monitoring. */
export const KUBE_RBAC_PROXY_PORT = 8444;
/** Webhook container port behind every Knative webhook Service (443 → 8443). */
export const WEBHOOK_PORT = 8443;
/** Container port of the Knative Eventing receivers (broker-ingress, imc-dispatcher, job-sink, Kafka receivers) behind their Service port 80. */
export const EVENTING_RECEIVER_PORT = 8080;

/** `<name>.<namespace>.svc.cluster.local` */
export const svcHost = (name: string, namespace: string): string => `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
/** SPIFFE-style principal Istio gives a workload of the local trust domain. */
export const principal = (namespace: string, serviceAccount: string): string => `${CLUSTER_DOMAIN}/ns/${namespace}/sa/${serviceAccount}`;

/** Knative Serving workloads that must carry a sidecar (docs §1.4.3). */
export const SERVING_INJECTED = ['activator', 'autoscaler'] as const;
/**
 * Knative Eventing workloads with a sidecar: the docs' four plus job-sink, which the
 * per-tenant policies (`allow-<tenant>-to-job-sink`) expect inside the mesh.
 */
export const EVENTING_INJECTED = ['pingsource-mt-adapter', 'imc-dispatcher', 'mt-broker-ingress', 'mt-broker-filter', 'job-sink'] as const;
/** Knative Kafka workloads with a sidecar (docs §1.4.3, in the docs' order). */
export const KAFKA_INJECTED = [
  'kafka-controller',
  'kafka-broker-receiver',
  'kafka-broker-dispatcher',
  'kafka-channel-receiver',
  'kafka-channel-dispatcher',
  'kafka-source-dispatcher',
  'kafka-sink-receiver',
] as const;

/**
 * Workloads that must stay outside the mesh when their namespace is injection-labelled (OSSM 3 /
 * upstream Istio): controllers and webhooks are called by the kube-apiserver, which has no sidecar,
 * and net-istio-controller probes the gateways in plaintext (research serverless-operator.md §4.4, §9.16).
 */
export const SERVING_NOT_INJECTED = ['autoscaler-hpa', 'controller', 'net-istio-controller', 'net-istio-webhook', 'webhook'] as const;
export const EVENTING_NOT_INJECTED = [
  'eventing-controller',
  'eventing-istio-controller',
  'eventing-webhook',
  'imc-controller',
  'mt-broker-controller',
] as const;
export const KAFKA_NOT_INJECTED = ['kafka-webhook-eventing'] as const;
