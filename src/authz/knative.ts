/**
 * The Knative data-path model (research istio-semantics.md §6.1–§6.4, serverless-operator.md §4–§6):
 * which workloads a request crosses on each path and who each hop sees as the caller.
 */
import type { MeshFlavor, ServerlessMesh } from '../api/types.ts';
import { detectFlavor, profileFor, type FlavorProfile, type ListenerTls } from '../flavors/index.ts';
import {
  ADMIN_PORT,
  AUTOSCALER_WS_PORT,
  EVENTING_NS,
  EXCLUDE_INBOUND_PORTS,
  INJECT,
  KNATIVE_SYSTEM_NAMESPACES,
  METRICS_PORT,
  QUEUE_PORT,
  SERVING_NS,
  svcHost,
  TENANT_LABEL,
} from '../model/constants.ts';
import { portList } from '../model/host-port.ts';
import type { KubeObject } from '../util/kube.ts';
import { meshConfigFromObjects, meshOptionsFromMeshConfig, securityConfigFrom } from './parse.ts';
import type { MeshOptions, SecurityConfig } from './types.ts';
import { DEFAULT_MESH } from './types.ts';

export type Flavor = MeshFlavor;
export { ADMIN_PORT, METRICS_PORT, QUEUE_PORT };
/**
 * Service port of the revision Services (`<rev>`, `<rev>-private`) and of `activator-service`: 80
 * (knative.dev/serving networking ServiceHTTPPort, name `http`) → target 8012 (BackendHTTPPort); their
 * metrics and admin ports keep their number. The eventing receivers' Services also expose 80 (→ 8080).
 */
export const SERVICE_HTTP_PORT = 80;
export type Via = 'direct' | 'activator' | 'local-gateway' | 'external' | 'no-sidecar';
export const VIAS: readonly Via[] = ['direct', 'activator', 'local-gateway', 'external', 'no-sidecar'];
/** In-mesh paths: the caller has a sidecar, so tenant isolation must hold. */
export const IN_MESH: ReadonlySet<Via> = new Set<Via>(['direct', 'activator', 'local-gateway']);

export interface Workload {
  name: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
  sidecar: boolean;
  excludedPorts: number[];
}

export type { ListenerTls };

export interface GatewayModel extends Workload {
  external: { port: number; tls: ListenerTls };
  local: { port: number; tls: ListenerTls };
}

export interface Ksvc {
  namespace: string;
  name: string;
  pod: Workload;
  /** Cluster-local host `<name>.<ns>.svc.cluster.local`. */
  host: string;
  revision: string;
  /** True when no ksvc manifest was given and this one stands for the namespace. */
  representative: boolean;
}

export interface KnativeModel {
  flavor: Flavor;
  profile: FlavorProfile;
  mesh: MeshOptions;
  config: SecurityConfig;
  activator: Workload;
  autoscaler: Workload;
  gateway: GatewayModel;
  ksvcs: Ksvc[];
  /** Namespaces whose (injected) pods call ksvcs. */
  sources: string[];
  /** namespace → tenant name. */
  tenantOf: Map<string, string>;
  /** Mesh namespaces outside every tenant (spec members, member-roll entries). */
  members: string[];
  /** Knative Serving is installed (KnativeServing present, or the spec enables it). */
  serving: boolean;
  /** The eventing data plane, when Knative Eventing is installed. */
  eventing: EventingModel | null;
  domain: string;
}

/** Eventing receivers a tenant sends to, and the broker filter that delivers on its behalf (all injected). */
export interface EventingModel {
  brokerIngress: Workload;
  imcDispatcher: Workload;
  jobSink: Workload;
  /** Knative Kafka's receivers, each present when the KnativeKafka CR enables that component. */
  kafkaSink?: Workload;
  kafkaBroker?: Workload;
  kafkaChannel?: Workload;
  brokerFilter: Workload;
}

const SERVING = SERVING_NS;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The gateway pods as the flavour's profile places them. OSSM 2: Maistra gateway in the control-plane
 * namespace, local gateway HTTPS ISTIO_MUTUAL on 8081 (docs §1.4.2). OSSM 3 and Istio: Knative's own
 * gateway in knative-serving-ingress running as SA `default`, local gateway plain HTTP on 8080
 * (serverless-operator.md §4.1). Hops name container ports: that is what a policy's `ports` matches.
 */
function gatewayFor(profile: FlavorProfile, root: string, excluded: number[]): GatewayModel {
  const g = profile.gateway;
  return {
    name: g.workload.name,
    namespace: g.namespace(root),
    serviceAccount: g.workload.serviceAccount,
    labels: { ...g.workload.labels },
    sidecar: true,
    excludedPorts: excluded,
    external: { port: g.external.containerPort, tls: g.external.tls },
    local: { port: g.local.containerPort, tls: g.local.tls },
  };
}

export interface ModelOptions {
  flavor?: Flavor;
  rootNamespace?: string;
  domain?: string;
  /** Tenants from a spec: name → namespaces. */
  tenants?: Array<{ name: string; namespaces: string[] }>;
  /** Extra source namespaces (spec members). */
  members?: string[];
  /**
   * Inbound ports the control plane excludes from capture when no control-plane object among the
   * objects says so: a spec of a flavour whose control plane is the user's (upstream Istio) is verified
   * as installed with the values docs/flavours.md requires (profile.excludedInboundPorts).
   */
  excludedPorts?: number[];
  /** Knative Serving enabled (default: a KnativeServing is among the objects, or no Knative CR is). */
  serving?: boolean;
  /** Knative Eventing enabled (default: a KnativeEventing is among the objects). */
  eventing?: boolean;
}

/**
 * What a spec says that its render alone does not: tenants, members, domain, and — where render owns
 * no control plane (upstream Istio) — the excluded inbound ports docs/flavours.md prescribes. One
 * place, so `verify -f`, `check -f`, `report -f` and the controller judge a spec alike.
 */
export function specModelOptions(mesh: ServerlessMesh): ModelOptions {
  return {
    flavor: mesh.spec.mesh.flavor,
    rootNamespace: mesh.spec.mesh.namespace,
    tenants: mesh.spec.tenants,
    members: mesh.spec.members,
    domain: mesh.spec.domain,
    excludedPorts: profileFor(mesh.spec.mesh.flavor).excludedInboundPorts,
    serving: mesh.spec.serving.enabled,
    eventing: mesh.spec.eventing.enabled,
  };
}

const parsePorts = portList;

/** Builds the model from manifests (rendered or user-supplied). */
export function modelFromObjects(objects: readonly KubeObject[], opts: ModelOptions = {}): KnativeModel {
  const smcp = objects.find((o) => o.kind === 'ServiceMeshControlPlane');
  const istioCr = objects.find((o) => o.kind === 'Istio' && o.apiVersion.startsWith('sailoperator.io/'));
  const profile = opts.flavor ? profileFor(opts.flavor) : detectFlavor(new Set(objects.map((o) => o.apiVersion.split('/')[0] ?? '')));
  const flavor = profile.flavor;
  const istioSpec = istioCr && isObj(istioCr.spec) ? istioCr.spec : {};
  const root =
    opts.rootNamespace ??
    smcp?.metadata.namespace ??
    (typeof istioSpec.namespace === 'string' ? istioSpec.namespace : undefined) ??
    DEFAULT_MESH.rootNamespace;
  // Mesh config (istio ConfigMap / Istio CR / SMCP) among the objects: normalization, trust domain, providers.
  const meshConfig = meshConfigFromObjects(objects);
  const mesh: MeshOptions = {
    ...(meshConfig ? meshOptionsFromMeshConfig(meshConfig) : DEFAULT_MESH),
    rootNamespace: opts.rootNamespace ?? (typeof meshConfig?.rootNamespace === 'string' ? meshConfig.rootNamespace : root),
  };

  const synthetic: KubeObject[] = [];
  let excluded: number[] = [];
  if (smcp) {
    const s = isObj(smcp.spec) ? smcp.spec : {};
    const dp = isObj(s.security) && isObj(s.security.dataPlane) ? s.security.dataPlane : {};
    // Maistra turns `security.dataPlane.mtls: true` into a mesh-wide STRICT PeerAuthentication.
    if (dp.mtls === true)
      synthetic.push({
        apiVersion: 'security.istio.io/v1beta1',
        kind: 'PeerAuthentication',
        metadata: { name: 'default', namespace: root },
        spec: { mtls: { mode: 'STRICT' } },
      });
    const tc = (s as { proxy?: { networking?: { trafficControl?: { inbound?: { excludedPorts?: unknown } } } } }).proxy?.networking
      ?.trafficControl?.inbound;
    excluded = parsePorts(tc?.excludedPorts);
  } else if (istioCr) {
    const values = isObj(istioSpec.values) ? istioSpec.values : {};
    const proxy = isObj(values.global) && isObj(values.global.proxy) ? values.global.proxy : {};
    excluded = parsePorts(proxy.excludeInboundPorts);
  } else if (opts.excludedPorts) {
    excluded = [...opts.excludedPorts];
  }
  const config = securityConfigFrom([...synthetic, ...objects]);

  // Tenants: spec, then Namespace labels, then the chart's `allow-<tenant>-to-activator` source lists.
  const tenantOf = new Map<string, string>();
  for (const t of opts.tenants ?? []) for (const ns of t.namespaces) tenantOf.set(ns, t.name);
  for (const o of objects) {
    const t = o.kind === 'Namespace' ? o.metadata.labels?.[TENANT_LABEL] : undefined;
    if (t && !tenantOf.has(o.metadata.name)) tenantOf.set(o.metadata.name, t);
  }
  const system = new Set<string>([...KNATIVE_SYSTEM_NAMESPACES, root, mesh.rootNamespace]);
  for (const p of config.policies) {
    const m = /^allow-(.+)-to-activator$/.exec(p.name);
    // Only the chart's per-tenant policy (selector app.kubernetes.io/component: activator), and only its
    // tenant rule (sources by namespace alone): the eventing senders' rule names knative-eventing.
    if (p.namespace !== SERVING || !m || p.selector?.['app.kubernetes.io/component'] !== 'activator') continue;
    for (const r of p.rules ?? []) {
      const src = r?.from?.[0]?.source;
      if (!src || src.principals?.length) continue;
      for (const ns of src.namespaces ?? []) if (!tenantOf.has(ns) && !system.has(ns)) tenantOf.set(ns, m[1]!);
    }
  }

  const hasKind = (kind: string, group: string) => objects.some((o) => o.kind === kind && o.apiVersion.startsWith(`${group}/`));
  const knativeCrs =
    hasKind('KnativeServing', 'operator.knative.dev') ||
    hasKind('KnativeEventing', 'operator.knative.dev') ||
    hasKind('KnativeKafka', 'operator.serverless.openshift.io');
  const serving = opts.serving ?? (hasKind('KnativeServing', 'operator.knative.dev') || !knativeCrs);

  // Members: mesh namespaces outside every tenant (spec members, member-roll entries other than Knative's own).
  const smmr = objects.find((o) => o.kind === 'ServiceMeshMemberRoll');
  const rollMembers = smmr && isObj(smmr.spec) && Array.isArray(smmr.spec.members) ? (smmr.spec.members as string[]) : [];
  const members = [...new Set([...(opts.members ?? []), ...rollMembers.filter((n) => !n.startsWith('knative-'))])]
    .filter((n) => !tenantOf.has(n) && !system.has(n))
    .sort();

  const ksvcs: Ksvc[] = [];
  if (serving) {
    for (const o of objects) {
      if (o.kind !== 'Service' || !o.apiVersion.startsWith('serving.knative.dev/')) continue;
      ksvcs.push(ksvcFromManifest(o, profile, excluded));
    }
    // Every mesh namespace is a destination: one representative ksvc where no manifest names one.
    if (ksvcs.length === 0) {
      for (const ns of [...new Set([...tenantOf.keys(), ...members])].sort())
        ksvcs.push(makeKsvc(ns, 'ksvc', {}, {}, 'default', true, excluded, true));
    }
  }

  const sources = new Set<string>([...tenantOf.keys(), ...members, ...ksvcs.map((k) => k.namespace)]);

  const sys = (name: string, sa: string, labels: Record<string, string>): Workload => ({
    name,
    namespace: SERVING,
    serviceAccount: sa,
    labels,
    sidecar: true,
    excludedPorts: excluded,
  });
  return {
    flavor,
    profile,
    mesh,
    config,
    activator: sys('activator', 'activator', {
      app: 'activator',
      role: 'activator',
      'app.kubernetes.io/component': 'activator',
      'app.kubernetes.io/name': 'knative-serving',
    }),
    autoscaler: sys('autoscaler', 'controller', {
      app: 'autoscaler',
      'app.kubernetes.io/component': 'autoscaler',
      'app.kubernetes.io/name': 'knative-serving',
    }),
    gateway: gatewayFor(profile, root, excluded),
    ksvcs,
    sources: [...sources].sort(),
    tenantOf,
    members,
    serving,
    eventing:
      (opts.eventing ?? hasKind('KnativeEventing', 'operator.knative.dev')) ? eventingModel(excluded, kafkaComponents(objects)) : null,
    domain: opts.domain ?? 'apps.example.com',
  };
}

/** Eventing data-plane pods as Knative Eventing and Knative Kafka label them (app.kubernetes.io/component). */
/** Which Knative Kafka data planes the KnativeKafka CR enables (`spec.{broker,channel,sink}.enabled`); undefined without one. */
function kafkaComponents(objects: readonly KubeObject[]): { broker: boolean; channel: boolean; sink: boolean } | undefined {
  const kk = objects.find((o) => o.kind === 'KnativeKafka' && o.apiVersion.startsWith('operator.serverless.openshift.io/'));
  if (!kk) return undefined;
  const spec = isObj(kk.spec) ? kk.spec : {};
  const on = (k: string) => isObj(spec[k]) && spec[k].enabled === true;
  return { broker: on('broker'), channel: on('channel'), sink: on('sink') };
}

function eventingModel(excluded: number[], kafka: { broker: boolean; channel: boolean; sink: boolean } | undefined): EventingModel {
  const w = (name: string, component: string, sa: string): Workload => ({
    name,
    namespace: EVENTING_NS,
    serviceAccount: sa,
    labels: { 'app.kubernetes.io/component': component, 'app.kubernetes.io/name': 'knative-eventing' },
    sidecar: true,
    excludedPorts: excluded,
  });
  return {
    brokerIngress: w('mt-broker-ingress', 'broker-ingress', 'mt-broker-ingress'),
    imcDispatcher: w('imc-dispatcher', 'imc-dispatcher', 'imc-dispatcher'),
    jobSink: w('job-sink', 'job-sink', 'job-sink'),
    // Knative Kafka's data-plane Deployments, component labels and service accounts (eventing-kafka-broker config/).
    ...(kafka?.sink ? { kafkaSink: w('kafka-sink-receiver', 'kafka-sink-receiver', 'knative-kafka-sink-data-plane') } : {}),
    ...(kafka?.broker ? { kafkaBroker: w('kafka-broker-receiver', 'kafka-broker-receiver', 'knative-kafka-broker-data-plane') } : {}),
    ...(kafka?.channel ? { kafkaChannel: w('kafka-channel-receiver', 'kafka-channel-receiver', 'knative-kafka-channel-data-plane') } : {}),
    brokerFilter: w('mt-broker-filter', 'broker-filter', 'mt-broker-filter'),
  };
}

function makeKsvc(
  namespace: string,
  name: string,
  templateLabels: Record<string, string>,
  annotations: Record<string, string>,
  sa: string,
  sidecar: boolean,
  meshExcluded: number[],
  representative: boolean,
): Ksvc {
  const revision = `${name}-00001`;
  const extra = parsePorts(annotations[EXCLUDE_INBOUND_PORTS]);
  return {
    namespace,
    name,
    revision,
    host: svcHost(name, namespace),
    representative,
    pod: {
      name: `${revision}-deployment`,
      namespace,
      serviceAccount: sa,
      // Labels Knative puts on revision pods (serving pkg/reconciler/revision/resources/meta.go).
      labels: {
        ...templateLabels,
        app: revision,
        'serving.knative.dev/service': name,
        'serving.knative.dev/configuration': name,
        'serving.knative.dev/revision': revision,
      },
      sidecar,
      excludedPorts: [...new Set([...meshExcluded, ...extra])],
    },
  };
}

function ksvcFromManifest(o: KubeObject, profile: FlavorProfile, excluded: number[]): Ksvc {
  const spec = isObj(o.spec) ? o.spec : {};
  const tmpl = isObj(spec.template) ? spec.template : {};
  const meta = isObj(tmpl.metadata) ? tmpl.metadata : {};
  const labels = (isObj(meta.labels) ? meta.labels : {}) as Record<string, string>;
  const annotations = (isObj(meta.annotations) ? meta.annotations : {}) as Record<string, string>;
  const podSpec = isObj(tmpl.spec) ? tmpl.spec : {};
  const inject = labels[INJECT] ?? annotations[INJECT];
  // OSSM 2 injects only on opt-in; upstream / OSSM 3 tenant namespaces are injection-labelled.
  const sidecar = profile.injection.mode === 'pod-opt-in' ? inject === 'true' : inject !== 'false';
  const sa = typeof podSpec.serviceAccountName === 'string' ? podSpec.serviceAccountName : 'default';
  return makeKsvc(o.metadata.namespace ?? 'default', o.metadata.name, labels, annotations, sa, sidecar, excluded, false);
}

/** One hop of a path: a client workload calling a destination workload. */
export interface Hop {
  label: string;
  client: { namespace: string; serviceAccount: string; sidecar: boolean; name: string };
  dest: Workload;
  port: number;
  /**
   * The Service port the client calls (DestinationRule portLevelSettings and the default SNI are keyed
   * by it); absent: the same as `port`.
   */
  servicePort?: number;
  listener?: ListenerTls;
  host: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  service: string;
  serviceNamespace: string;
  /** The client may also reach the pod IP directly (plaintext through its sidecar's passthrough). */
  podIpFallback?: boolean;
}

export interface Caller {
  namespace: string;
  serviceAccount: string;
  sidecar: boolean;
  name: string;
}

export const callerIn = (namespace: string, sidecar = true): Caller => ({ namespace, serviceAccount: 'default', sidecar, name: 'client' });

export type Variant = 'serve' | 'proxy';

const asClient = (w: Workload): Caller => ({ namespace: w.namespace, serviceAccount: w.serviceAccount, sidecar: w.sidecar, name: w.name });

/** A request for ksvc `k` from `client` to `dest` on the queue-proxy / activator port (8012). */
function hopTo(k: Ksvc, client: Caller, dest: Workload, destLabel: string, host: string): Hop {
  return {
    label: `${client.namespace}/${client.name} → ${destLabel}`,
    client,
    dest,
    port: QUEUE_PORT,
    // The revision Services (public: activator or queue-proxy endpoints; private) expose 80 → 8012.
    servicePort: SERVICE_HTTP_PORT,
    host,
    path: '/',
    method: 'GET',
    headers: {},
    service: svcHost(k.revision, k.namespace),
    serviceNamespace: k.namespace,
  };
}

function toPod(m: KnativeModel, k: Ksvc, client: Caller, host: string): Hop {
  return hopTo(k, client, k.pod, `${k.namespace}/${k.revision} (queue-proxy :${QUEUE_PORT})`, host);
}

// The public revision Service's endpoints are the activator pods in Proxy mode.
function toActivator(m: KnativeModel, k: Ksvc, client: Caller, host: string): Hop {
  return hopTo(k, client, m.activator, `${m.activator.namespace}/activator :${QUEUE_PORT}`, host);
}

/** Forwarding from the activator: the original caller's identity is not carried (§6.3). */
function behindActivator(m: KnativeModel, k: Ksvc, host: string): Hop {
  return { ...toPod(m, k, asClient(m.activator), host), service: svcHost(`${k.revision}-private`, k.namespace) };
}

export const externalHost = (m: KnativeModel, k: Ksvc) => `${k.name}-${k.namespace}.${m.domain}`;

/**
 * Hops of one path. An injected caller that targets the local gateway with a ksvc Host never
 * reaches the gateway: its own sidecar matches the Host against the ksvc's mesh VirtualService
 * (Istio routes HTTP by Host), so it behaves like `direct` / `activator` with the caller's identity.
 */
export function pathHops(m: KnativeModel, caller: Caller, k: Ksvc, via: Via, variant: Variant): Hop[] {
  const host = k.host;
  const inMesh = (c: Caller): Hop[] =>
    variant === 'serve' ? [toPod(m, k, c, host)] : [toActivator(m, k, c, host), behindActivator(m, k, host)];
  const throughGateway = (first: Hop): Hop[] => {
    const gw = asClient(m.gateway);
    const h = first.host;
    return variant === 'serve' ? [first, toPod(m, k, gw, h)] : [first, toActivator(m, k, gw, h), behindActivator(m, k, h)];
  };
  switch (via) {
    case 'direct':
      return [toPod(m, k, caller, host)];
    case 'activator':
      return [toActivator(m, k, caller, host), behindActivator(m, k, host)];
    case 'local-gateway':
      if (caller.sidecar) return inMesh(caller);
      return throughGateway(gatewayHop(m, caller, 'local', host));
    case 'no-sidecar':
      return throughGateway(gatewayHop(m, { ...caller, sidecar: false }, 'local', host));
    case 'external': {
      // OpenShift Route → ingress gateway: the router is outside the mesh (no identity).
      const router: Caller = { ...m.profile.authz.externalCaller, sidecar: false };
      return throughGateway(gatewayHop(m, router, 'external', externalHost(m, k)));
    }
  }
}

function gatewayHop(m: KnativeModel, client: Caller, which: 'local' | 'external', host: string): Hop {
  const l = m.gateway[which];
  return {
    label: `${client.namespace}/${client.name} → ${m.gateway.namespace}/${m.gateway.name} :${l.port} (${which === 'local' ? 'knative-local-gateway' : 'knative-ingress-gateway'})`,
    client,
    dest: m.gateway,
    port: l.port,
    listener: l.tls,
    host,
    path: '/',
    method: 'GET',
    headers: {},
    service: svcHost(which === 'local' ? 'knative-local-gateway' : m.gateway.name, m.gateway.namespace),
    serviceNamespace: m.gateway.namespace,
  };
}

export interface RequiredEdge {
  id: 'activator-probe' | 'autoscaler-metrics' | 'prestop-drain' | 'ingress-prober' | 'activator-autoscaler';
  description: string;
  impact: string;
  /** Alternatives: the edge works when every hop of at least one alternative is allowed. */
  alternatives: Array<{ label: string; hops: Hop[] }>;
}

const KUBELET: Caller = { namespace: 'node', serviceAccount: '-', sidecar: false, name: 'kubelet' };
const NET_ISTIO: Caller = { namespace: SERVING, serviceAccount: 'controller', sidecar: false, name: 'net-istio-controller' };

/** Control traffic a ksvc needs (§6.4); pod-IP variants go plaintext through the client's passthrough. */
export function requiredEdges(m: KnativeModel, k: Ksvc): RequiredEdge[] {
  const probe = (client: Workload, port: number, path: string, headers: Record<string, string>) => {
    // `<rev>-private` exposes 80 → 8012 and the metrics port under its own number.
    const servicePort = port === QUEUE_PORT ? SERVICE_HTTP_PORT : port;
    const base = { ...toPod(m, k, asClient(client), `${k.revision}-private.${k.namespace}`), port, servicePort, path, headers };
    base.label = `${client.namespace}/${client.name} → ${k.namespace}/${k.revision} :${port} ${path}`;
    return [
      { label: `via ${k.revision}-private Service (mTLS)`, hops: [{ ...base, service: svcHost(`${k.revision}-private`, k.namespace) }] },
      { label: 'pod IP (plaintext passthrough)', hops: [{ ...base, podIpFallback: true }] },
    ];
  };
  const edges: RequiredEdge[] = [
    {
      id: 'activator-probe',
      description: `activator probes ${k.namespace}/${k.name} GET /healthz :${QUEUE_PORT}`,
      impact: 'the revision will never become Ready behind the activator (cannot scale from zero)',
      alternatives: probe(m.activator, QUEUE_PORT, '/healthz', { 'K-Network-Probe': 'queue', 'User-Agent': 'Knative-Activator-Probe' }),
    },
    {
      id: 'autoscaler-metrics',
      description: `autoscaler scrapes ${k.namespace}/${k.name} GET /metrics :${METRICS_PORT}`,
      impact: 'the revision will never scale (the autoscaler cannot read its metrics)',
      alternatives: probe(m.autoscaler, METRICS_PORT, '/metrics', {}),
    },
    {
      id: 'prestop-drain',
      description: `kubelet PreStop GET /wait-for-drain :${ADMIN_PORT} on ${k.namespace}/${k.name}`,
      impact: 'pods are stopped without draining (PreStop hook fails → 502/503 on scale-down)',
      alternatives: [
        {
          label: 'kubelet (plaintext)',
          hops: [
            {
              ...toPod(m, k, KUBELET, `${k.revision}-private.${k.namespace}`),
              port: ADMIN_PORT,
              servicePort: ADMIN_PORT,
              path: '/wait-for-drain',
              label: `node/kubelet → ${k.namespace}/${k.revision} :${ADMIN_PORT} /wait-for-drain`,
            },
          ],
        },
      ],
    },
  ];
  // net-istio probes every gateway pod in plaintext (it has no sidecar); it cannot present an
  // Istio certificate, so an ISTIO_MUTUAL listener is not probed [derived].
  const probeHeaders = { 'K-Network-Probe': 'probe', 'K-Network-Hash': 'override', 'User-Agent': 'Knative-Ingress-Probe' };
  const listeners = (['external', 'local'] as const).filter((w) => m.gateway[w].tls !== 'ISTIO_MUTUAL');
  for (const which of listeners) {
    for (const variant of ['serve', 'proxy'] as const) {
      const host = which === 'external' ? externalHost(m, k) : k.host;
      const first = { ...gatewayHop(m, NET_ISTIO, which, host), path: '/healthz', headers: probeHeaders };
      const gw = asClient(m.gateway);
      const rest = variant === 'serve' ? [toPod(m, k, gw, host)] : [toActivator(m, k, gw, host), behindActivator(m, k, host)];
      edges.push({
        id: 'ingress-prober',
        description: `net-istio prober → ${which} gateway → ${k.namespace}/${k.name} (${variant === 'serve' ? 'activator out of path' : 'activator in path'})`,
        impact: 'the Route / Knative Service will never become Ready (net-istio ingress probe fails)',
        alternatives: [
          { label: `${which} listener`, hops: [first, ...rest.map((h) => ({ ...h, path: '/healthz', headers: probeHeaders }))] },
        ],
      });
    }
  }
  return edges;
}

/** Edges not tied to one ksvc. */
export function systemEdges(m: KnativeModel): RequiredEdge[] {
  if (!m.serving) return [];
  return [
    {
      id: 'activator-autoscaler',
      description: `activator → autoscaler websocket :${AUTOSCALER_WS_PORT} (request statistics)`,
      impact: 'no revision can scale (the autoscaler gets no statistics from the activator)',
      alternatives: [
        {
          label: 'autoscaler Service',
          hops: [
            {
              label: `${SERVING}/activator → ${SERVING}/autoscaler :${AUTOSCALER_WS_PORT}`,
              client: asClient(m.activator),
              dest: m.autoscaler,
              port: AUTOSCALER_WS_PORT,
              host: `${svcHost('autoscaler', SERVING)}:${AUTOSCALER_WS_PORT}`,
              path: '/',
              method: 'GET',
              headers: {},
              service: svcHost('autoscaler', SERVING),
              serviceNamespace: SERVING,
            },
          ],
        },
      ],
    },
  ];
}
