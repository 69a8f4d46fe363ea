import { splitHostPort } from '../api/load.ts';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import {
  DISABLE_NETPOL,
  EVENTING_INJECTED,
  EVENTING_NS,
  KAFKA_INJECTED,
  SECRET_FILTERING_ENV,
  SERVING_INJECTED,
  SERVING_NS,
  injectedWorkload,
} from './constants.ts';
import { networkingApiVersion } from './gateways.ts';

/** Annotation that stops the Serverless operator from generating its NetworkPolicies (§2.2). */
function netpolAnnotations(spec: ServerlessMeshSpec): Record<string, string> | undefined {
  return spec.networkPolicies === 'disabled' ? { [DISABLE_NETPOL]: 'true' } : undefined;
}

function withAnnotations(meta: KubeObject['metadata'], annotations: Record<string, string> | undefined) {
  return annotations ? { ...meta, annotations } : meta;
}

/**
 * Metrics with mTLS (docs §1.5): Prometheus as backend. `metrics-protocol` too, because with
 * Istio ingress the operator defaults it to `none` (SRVKS-743) on Serving ≥ 1.17.
 */
const observability = { 'metrics.backend-destination': 'prometheus', 'metrics-protocol': 'prometheus' };

export function knativeServing(spec: ServerlessMeshSpec): KubeObject {
  const metadata = withAnnotations({ name: 'knative-serving', namespace: SERVING_NS }, netpolAnnotations(spec));
  const config: Record<string, Record<string, string>> = {};
  if (spec.metrics.enabled) config.observability = observability;

  if (spec.ingress === 'kourier') {
    return {
      apiVersion: 'operator.knative.dev/v1beta1',
      kind: 'KnativeServing',
      metadata: { name: 'knative-serving', namespace: SERVING_NS },
      spec: { ingress: { kourier: { enabled: true } }, ...(spec.metrics.enabled ? { config } : {}) },
    };
  }
  const meshNs = spec.mesh.namespace;
  config.istio = {
    'gateway.knative-serving.knative-ingress-gateway': `istio-ingressgateway.${meshNs}.svc.cluster.local`,
    'local-gateway.knative-serving.knative-local-gateway': `knative-local-gateway.${meshNs}.svc.cluster.local`,
  };
  return {
    apiVersion: 'operator.knative.dev/v1beta1',
    kind: 'KnativeServing',
    metadata,
    spec: {
      ingress: { istio: { enabled: true }, kourier: { enabled: false } },
      deployments: SERVING_INJECTED.map(injectedWorkload),
      config,
      workloads: [
        {
          name: 'net-istio-controller',
          env: [
            {
              container: 'controller',
              envVars: [{ name: SECRET_FILTERING_ENV, value: String(spec.secretFiltering) }],
            },
          ],
        },
      ],
    },
  };
}

export function knativeEventing(spec: ServerlessMeshSpec): KubeObject {
  const meta = { name: 'knative-eventing', namespace: EVENTING_NS };
  const config: Record<string, Record<string, string>> = {};
  if (spec.metrics.enabled) config.observability = { 'metrics.backend-destination': 'prometheus' };
  if (spec.ingress === 'kourier') {
    return {
      apiVersion: 'operator.knative.dev/v1beta1',
      kind: 'KnativeEventing',
      metadata: meta,
      spec: spec.metrics.enabled ? { config } : {},
    };
  }
  // `features.istio: enabled` makes eventing-istio-controller create ISTIO_MUTUAL DestinationRules for channels.
  config.features = { istio: 'enabled' };
  return {
    apiVersion: 'operator.knative.dev/v1beta1',
    kind: 'KnativeEventing',
    metadata: withAnnotations(meta, netpolAnnotations(spec)),
    spec: { config, workloads: EVENTING_INJECTED.map(injectedWorkload) },
  };
}

/** KnativeKafka (docs §1.4.3 step 5). `sink` sits at spec level, as in the real CRD. */
export function knativeKafka(spec: ServerlessMeshSpec): KubeObject | undefined {
  const k = spec.kafka;
  if (!k?.enabled) return undefined;
  const servers = k.bootstrapServers.join(',');
  const inMesh = spec.ingress === 'istio';
  return {
    apiVersion: 'operator.serverless.openshift.io/v1alpha1',
    kind: 'KnativeKafka',
    metadata: { name: 'knative-kafka', namespace: EVENTING_NS },
    spec: {
      channel: k.channel ? { enabled: true, bootstrapServers: servers } : { enabled: false },
      source: { enabled: k.source },
      broker: k.broker
        ? {
            enabled: true,
            defaultConfig: {
              bootstrapServers: servers,
              numPartitions: k.numPartitions,
              replicationFactor: k.replicationFactor,
            },
          }
        : { enabled: false },
      sink: { enabled: k.sink },
      ...(inMesh ? { workloads: KAFKA_INJECTED.map(injectedWorkload) } : {}),
    },
  };
}

/** Conventional names of Kafka listener ports; others get `tcp-<port>`. */
const KAFKA_PORT_NAMES: Record<number, string> = {
  9092: 'tcp-plain',
  9093: 'tcp-tls',
  9094: 'tcp-sasl-tls',
  9095: 'tcp-sasl-plain',
  9096: 'tcp-tls-noauth',
};

/**
 * ServiceEntry telling the mesh about the Kafka cluster (hosts without ports, TCP, external).
 * Port names are unique: Istio's ServiceEntry validation rejects a repeated name
 * ("service entry port name %q already defined", pkg/config/validation), which the docs' example repeats.
 */
export function kafkaServiceEntry(spec: ServerlessMeshSpec): KubeObject | undefined {
  const k = spec.kafka;
  if (!k?.enabled || spec.ingress !== 'istio') return undefined;
  const hosts = [...new Set(k.bootstrapServers.map((s) => splitHostPort(s).host))];
  return {
    apiVersion: networkingApiVersion(spec),
    kind: 'ServiceEntry',
    metadata: { name: 'kafka-cluster', namespace: EVENTING_NS },
    spec: {
      hosts,
      exportTo: ['.'],
      ports: k.ports.map((number) => ({ number, name: KAFKA_PORT_NAMES[number] ?? `tcp-${number}`, protocol: 'TCP' })),
      location: 'MESH_EXTERNAL',
      resolution: 'NONE',
    },
  };
}
