import { splitHostPort } from '../model/host-port.ts';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import {
  DISABLE_NETPOL,
  EVENTING_INJECTED,
  EVENTING_NOT_INJECTED,
  EVENTING_NS,
  KAFKA_INJECTED,
  KAFKA_NOT_INJECTED,
  SECRET_FILTERING_ENV,
  SERVING_INJECTED,
  SERVING_NOT_INJECTED,
  SERVING_NS,
  svcHost,
} from '../model/constants.ts';

/**
 * Annotation that stops the Serverless operator from generating its NetworkPolicies (§2.2). Where the
 * control plane does not manage NetworkPolicies (OSSM 3, Istio) the operator's are never generated:
 * every OSSM 3 source sets it (research §8), and they are the OSSM 2 set; `networkPolicies: generate`
 * there means render's own policies (network-paths.ts).
 */
function netpolAnnotations(spec: ServerlessMeshSpec, profile: FlavorProfile): Record<string, string> | undefined {
  return spec.networkPolicies === 'disabled' || profile.networkPolicies.generatedBy !== 'operator'
    ? { [DISABLE_NETPOL]: 'true' }
    : undefined;
}

interface WorkloadOverride {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  env?: unknown[];
}

/** Workload overrides: sidecar opt-ins, then (namespace-label injection) opt-outs for what must stay out of the mesh. */
function injectionOverrides(profile: FlavorProfile, injected: readonly string[], notInjected: readonly string[]): WorkloadOverride[] {
  const { optIn, optOut } = profile.injection;
  const out: WorkloadOverride[] = injected.map((name) => ({
    name,
    labels: { ...optIn.labels },
    ...(optIn.annotations ? { annotations: { ...optIn.annotations } } : {}),
  }));
  if (profile.injection.labelSystemNamespaces && optOut) {
    for (const name of notInjected) out.push({ name, labels: { ...optOut.labels } });
  }
  return out;
}

function withAnnotations(meta: KubeObject['metadata'], annotations: Record<string, string> | undefined) {
  return annotations ? { ...meta, annotations } : meta;
}

/**
 * Metrics with mTLS (docs §1.5): Prometheus as backend. `metrics-protocol` too, because with
 * Istio ingress the operator defaults it to `none` (SRVKS-743) on Serving ≥ 1.17.
 */
const observability = { 'metrics.backend-destination': 'prometheus', 'metrics-protocol': 'prometheus' };

export function knativeServing(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject {
  const metadata = withAnnotations({ name: 'knative-serving', namespace: SERVING_NS }, netpolAnnotations(spec, profile));
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
  const g = profile.gateway;
  const gatewayNs = g.namespace(spec.mesh.namespace);
  config.istio = {
    'gateway.knative-serving.knative-ingress-gateway': svcHost(g.ingressService.name, gatewayNs),
    'local-gateway.knative-serving.knative-local-gateway': svcHost('knative-local-gateway', gatewayNs),
  };
  // net-istio-controller probes the gateways in plaintext: it must stay outside the mesh (§9.16).
  const netIstio: WorkloadOverride = {
    name: 'net-istio-controller',
    env: [{ container: 'controller', envVars: [{ name: SECRET_FILTERING_ENV, value: String(spec.secretFiltering) }] }],
  };
  const overrides = injectionOverrides(profile, SERVING_INJECTED, SERVING_NOT_INJECTED);
  const netIstioOptOut = overrides.find((o) => o.name === netIstio.name);
  const workloads = netIstioOptOut
    ? overrides.map((o) => (o === netIstioOptOut ? { ...o, env: netIstio.env } : o))
    : [...overrides, netIstio];
  // Opt-ins where the flavour's reference puts them (OSSM 2 docs: `deployments`); everything else as
  // `workloads`, where the env override lives.
  const deployments =
    profile.injection.servingOptInField === 'deployments'
      ? workloads.filter((w) => (SERVING_INJECTED as readonly string[]).includes(w.name))
      : [];
  return {
    apiVersion: 'operator.knative.dev/v1beta1',
    kind: 'KnativeServing',
    metadata,
    spec: {
      ingress: { istio: { enabled: true }, kourier: { enabled: false } },
      ...(deployments.length > 0 ? { deployments } : {}),
      config,
      workloads: workloads.filter((w) => !deployments.includes(w)),
    },
  };
}

export function knativeEventing(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject {
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
    metadata: withAnnotations(meta, netpolAnnotations(spec, profile)),
    spec: { config, workloads: injectionOverrides(profile, EVENTING_INJECTED, EVENTING_NOT_INJECTED) },
  };
}

/** KnativeKafka (docs §1.4.3 step 5). `sink` sits at spec level, as in the real CRD. */
export function knativeKafka(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject | undefined {
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
      ...(inMesh ? { workloads: injectionOverrides(profile, KAFKA_INJECTED, KAFKA_NOT_INJECTED) } : {}),
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
export function kafkaServiceEntry(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject | undefined {
  const k = spec.kafka;
  if (!k?.enabled || spec.ingress !== 'istio') return undefined;
  const hosts = [...new Set(k.bootstrapServers.map((s) => splitHostPort(s).host))];
  return {
    apiVersion: profile.api.networking,
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
