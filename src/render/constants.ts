/** Names fixed by Knative, OpenShift Serverless and the documented procedure. */
export const SERVING_NS = 'knative-serving';
export const SERVING_INGRESS_NS = 'knative-serving-ingress';
export const EVENTING_NS = 'knative-eventing';
export const CLUSTER_DOMAIN = 'cluster.local';

export const INJECT = 'sidecar.istio.io/inject';
export const REWRITE_PROBES = 'sidecar.istio.io/rewriteAppHTTPProbers';
export const PASSTHROUGH = 'serving.knative.openshift.io/enablePassthrough';
export const DISABLE_NETPOL = 'serverless.openshift.io/disable-istio-net-policies-generation';
export const PART_OF = 'knative.openshift.io/part-of';
export const CERT_UID = 'networking.internal.knative.dev/certificate-uid';
export const SECRET_FILTERING_ENV = 'ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID';

/** Labels this tool puts on what it renders (the cluster layer adds managed-by / spec labels). */
export const TENANT_LABEL = 'serverlessmesh.dev/tenant';

/** Sidecar injection request: pod label (seed 004 / Istio IST0135) plus probe rewriting annotation. */
export const injectedWorkload = (name: string) => ({
  name,
  labels: { [INJECT]: 'true' },
  annotations: { [REWRITE_PROBES]: 'true' },
});

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
