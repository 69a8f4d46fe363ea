/**
 * OSSM 2 installation (its objects, from files or a cluster) → the equivalent `mesh.flavor: ossm3`
 * ServerlessMesh spec, plus every setting that has no OSSM 3 equivalent (listed, never dropped
 * silently). Pure: the caller reads the objects.
 */
import type { ServerlessMesh, ServerlessMeshSpec, Tenant } from '../api/types.ts';
import { ossm2 } from '../flavors/ossm2.ts';
import { ossm3 } from '../flavors/ossm3.ts';
import {
  DISABLE_NETPOL,
  EVENTING_NS,
  ISTIO_INJECTION,
  ISTIO_REV,
  KNATIVE_SYSTEM_NAMESPACES,
  METADATA_NAME_LABEL,
  SECRET_FILTERING_ENV,
  SERVING_INGRESS_NS,
  SERVING_NS,
  TENANT_LABEL,
} from '../model/constants.ts';
import { splitHostPort } from '../model/host-port.ts';
import type { TlsMaterial } from '../render/tls-secret.ts';
import type { KubeObject } from '../util/kube.ts';
import { contains, groupOf, isObj, parseBoolTrue, SPEC_LABEL } from './objects.ts';

/** A setting of the OSSM 2 installation that the ossm3 spec does not carry over. */
export interface Unmapped {
  /** Where it was read: `Kind/namespace/name` and the field path. */
  path: string;
  value: unknown;
  reason: string;
  /** The migrated installation would behave differently in a way the user must decide on: `--apply` refuses. */
  blocking?: boolean;
}

export interface Recovered {
  mesh: ServerlessMesh;
  unmapped: Unmapped[];
  /**
   * Certificate and key of the TLS Secret the old gateway served. Render copies them to the new gateway
   * namespace when `mesh.spec.tls.generate` is set (which needs the domain); returned even without it, so the
   * caller can read the domain from the certificate and recover again.
   */
  tls?: TlsMaterial;
}

export interface RecoverOptions {
  /** Name of the new spec; default: the spec label found on the objects, else `default`. */
  name?: string;
  /** Cluster apps domain when the objects do not say (an OpenShift `Ingress` config `cluster` does). */
  domain?: string;
}

export class NotOssm2Error extends Error {}

const ref = (o: KubeObject) =>
  o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
const find = (objects: readonly KubeObject[], group: string, kind: string, ns?: string, name?: string) =>
  objects.find(
    (o) =>
      groupOf(o.apiVersion) === group &&
      o.kind === kind &&
      (ns === undefined || o.metadata.namespace === ns) &&
      (name === undefined || o.metadata.name === name),
  );
const all = (objects: readonly KubeObject[], group: string, kind: string) =>
  objects.filter((o) => groupOf(o.apiVersion) === group && o.kind === kind);
const spec = (o: KubeObject | undefined): Record<string, unknown> => (o && isObj(o.spec) ? o.spec : {});
const at = (v: unknown, ...path: string[]): unknown => {
  let cur = v;
  for (const p of path) cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
  return cur;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function recoverSpec(objects: readonly KubeObject[], opts: RecoverOptions = {}): Recovered {
  const unmapped: Unmapped[] = [];
  const smcp = find(objects, 'maistra.io', 'ServiceMeshControlPlane');
  const smmr = find(objects, 'maistra.io', 'ServiceMeshMemberRoll');
  if (!smcp && !smmr)
    throw new NotOssm2Error(
      'no ServiceMeshControlPlane or ServiceMeshMemberRoll among the objects: not an OpenShift Service Mesh 2.x installation',
    );
  const meshNs = smcp?.metadata.namespace ?? smmr?.metadata.namespace ?? 'istio-system';
  const ks = find(objects, 'operator.knative.dev', 'KnativeServing');
  const ke = find(objects, 'operator.knative.dev', 'KnativeEventing');
  const kk = find(objects, 'operator.serverless.openshift.io', 'KnativeKafka');

  if (smcp) unmapped.push(...smcpUnmapped(smcp));

  // Ingress: OSSM 3 runs Knative's own gateway; Kourier-with-mesh has no ossm3 form.
  const kourier =
    at(ks?.spec, 'ingress', 'kourier', 'enabled') === true || (ks !== undefined && at(ks.spec, 'ingress', 'istio', 'enabled') !== true);
  if (kourier) {
    unmapped.push({
      path: `${ref(ks!)} spec.ingress`,
      value: at(ks!.spec, 'ingress') ?? null,
      reason:
        'Kourier with the mesh (ingress: kourier) exists only for ossm2; the ossm3 spec moves Knative ingress into the mesh (ingress: istio), which changes the data path of every Knative Service: review before applying',
      blocking: true,
    });
  }

  // Tenants: the tenant label, else the chart's allow-<tenant>-to-activator policies.
  const tenants = recoverTenants(objects);
  const tenantNs = new Set(tenants.flatMap((t) => t.namespaces));

  // Members: the member roll (and ServiceMeshMember objects) minus Knative, mesh and tenant namespaces.
  const reserved = new Set<string>([...KNATIVE_SYSTEM_NAMESPACES, meshNs]);
  const rolled = [
    ...(Array.isArray(spec(smmr).members) ? (spec(smmr).members as unknown[]).filter((m): m is string => typeof m === 'string') : []),
    ...all(objects, 'maistra.io', 'ServiceMeshMember').map((m) => m.metadata.namespace ?? ''),
  ];
  // Namespaces already labelled for OSSM 3 injection are members too: a resumed migration has removed the member roll.
  const labelled = all(objects, '', 'Namespace')
    .filter((n) => n.metadata.labels?.[ISTIO_INJECTION] === 'enabled' || n.metadata.labels?.[ISTIO_REV] !== undefined)
    .map((n) => n.metadata.name);
  const members = [...new Set([...rolled, ...labelled])].filter((m) => m && m !== '*' && !reserved.has(m) && !tenantNs.has(m));
  if (rolled.includes('*'))
    unmapped.push({
      path: `${ref(smmr!)} spec.members`,
      value: '*',
      reason: 'a wildcard member roll has no ossm3 form: label the namespaces that must join the mesh (spec.members)',
    });
  if (Array.isArray(at(smmr?.spec, 'memberSelectors')))
    unmapped.push({
      path: `${ref(smmr!)} spec.memberSelectors`,
      value: at(smmr!.spec, 'memberSelectors'),
      reason: 'member selectors are not carried over: list the namespaces in spec.members',
    });

  for (const ns of all(objects, '', 'Namespace')) {
    const v = ns.metadata.labels?.['maistra.io/member-of'];
    if (v !== undefined)
      unmapped.push({
        path: `Namespace/${ns.metadata.name} metadata.labels["maistra.io/member-of"]`,
        value: v,
        reason: 'Maistra membership label (OSSM-1397 workaround): OSSM 3 ignores it; left in place, remove it once OSSM 2 is gone',
      });
  }

  // Gateways: the two Knative ones move; anything else is the user's and stays where it is.
  const ingressGw = find(objects, 'networking.istio.io', 'Gateway', SERVING_NS, 'knative-ingress-gateway');
  for (const gw of all(objects, 'networking.istio.io', 'Gateway')) {
    if (
      gw.metadata.namespace === SERVING_NS &&
      (gw.metadata.name === 'knative-ingress-gateway' || gw.metadata.name === 'knative-local-gateway')
    )
      continue;
    unmapped.push({
      path: ref(gw),
      value: at(gw.spec, 'selector') ?? null,
      reason: 'custom Gateway: not moved; it selects OSSM 2 gateway pods, which the ossm3 setup does not run',
    });
  }
  const servers = Array.isArray(at(ingressGw?.spec, 'servers')) ? (at(ingressGw!.spec, 'servers') as unknown[]) : [];
  if (servers.length > 1)
    unmapped.push({
      path: `${ref(ingressGw!)} spec.servers`,
      value: servers,
      reason: 'only the HTTPS server is rendered for ossm3; extra servers are not carried over',
    });
  const secretName = servers.map((s) => str(at(s, 'tls', 'credentialName'))).find((n): n is string => !!n) ?? 'wildcard-certs';

  // TLS: the Secret the old gateway served is copied to the new gateway's namespace.
  const secret = find(objects, '', 'Secret', meshNs, secretName) ?? find(objects, '', 'Secret', SERVING_INGRESS_NS, secretName);
  const data = isObj(secret?.data) ? secret.data : {};
  const tls =
    typeof data['tls.crt'] === 'string' && typeof data['tls.key'] === 'string'
      ? {
          certPem: Buffer.from(data['tls.crt'], 'base64').toString('utf8'),
          keyPem: Buffer.from(data['tls.key'], 'base64').toString('utf8'),
        }
      : undefined;
  const domain = opts.domain ?? str(at(find(objects, 'config.openshift.io', 'Ingress', undefined, 'cluster')?.spec, 'domain'));
  if (!tls)
    unmapped.push({
      path: `Secret/${meshNs}/${secretName}`,
      value: null,
      reason: `TLS Secret not found among the objects: the OSSM 3 gateway reads it from ${SERVING_INGRESS_NS}; create Secret ${SERVING_INGRESS_NS}/${secretName} yourself`,
    });
  else if (!domain)
    unmapped.push({
      path: 'spec.domain',
      value: null,
      reason:
        'cluster apps domain not recoverable from the objects: the copied certificate is kept, but pass --domain so the spec can regenerate it',
      blocking: true,
    });

  // Knative CRs.
  const observability = (o: KubeObject | undefined) => at(o?.spec, 'config', 'observability', 'metrics.backend-destination');
  const metricsOn = ks || ke ? observability(ks) === 'prometheus' || observability(ke) === 'prometheus' : true;
  const monitoringNs =
    str(
      at(
        find(objects, 'networking.k8s.io', 'NetworkPolicy', SERVING_NS, 'allow-from-openshift-monitoring-ns')?.spec,
        'ingress',
        '0',
        'from',
        '0',
        'namespaceSelector',
        'matchLabels',
        METADATA_NAME_LABEL,
      ),
    ) ??
    firstMonitoringNs(objects) ??
    'openshift-monitoring';
  // Once KnativeServing points at the OSSM 3 gateway (a resumed migration), the annotation is the ossm3 render's (always
  // set) and no longer says what the OSSM 2 spec asked for: the default is assumed then.
  const migratedKs = (str(at(ks?.spec, 'config', 'istio', 'gateway.knative-serving.knative-ingress-gateway')) ?? '').includes(
    `.${SERVING_INGRESS_NS}.`,
  );
  const netpolDisabled =
    !migratedKs && (parseBoolTrue(ks?.metadata.annotations?.[DISABLE_NETPOL]) || parseBoolTrue(ke?.metadata.annotations?.[DISABLE_NETPOL]));

  const kafka = recoverKafka(objects, kk);
  const specName = opts.name ?? [smcp, smmr, ks].map((o) => o?.metadata.labels?.[SPEC_LABEL]).find((n): n is string => !!n) ?? 'default';
  const longRunning = !!find(objects, 'networking.istio.io', 'EnvoyFilter', meshNs, 'disable-stream-idle-timeout');

  const s: ServerlessMeshSpec = {
    mesh: {
      flavor: 'ossm3',
      namespace: meshNs,
      controlPlane: ossm3.defaultControlPlane,
      manageControlPlane: true,
      longRunningRequests: longRunning,
    },
    ingress: 'istio',
    ...(domain ? { domain } : {}),
    tls: { secretName, generate: !!tls && !!domain },
    serving: { enabled: ks !== undefined || !ke },
    eventing: { enabled: ke !== undefined || (!ks && !ke) },
    ...(kafka ? { kafka } : {}),
    members,
    tenants,
    metrics: { enabled: metricsOn, monitoringNamespace: monitoringNs },
    // OSSM 2 `generate` ran under Maistra's member isolation; ossm3 `generate` keeps namespaces isolated by
    // rendering the paths of docs/network-paths.md, so the installation is not opened up by the move.
    networkPolicies: netpolDisabled ? 'disabled' : 'generate',
    secretFiltering: secretFiltering(ks),
  };
  const mesh: ServerlessMesh = { apiVersion: 'serverlessmesh.dev/v1alpha1', kind: 'ServerlessMesh', metadata: { name: specName }, spec: s };
  return { mesh, unmapped, ...(tls ? { tls } : {}) };
}

function firstMonitoringNs(objects: readonly KubeObject[]): string | undefined {
  for (const np of all(objects, 'networking.k8s.io', 'NetworkPolicy')) {
    if (!/monitoring/.test(np.metadata.name)) continue;
    const v = str(at(np.spec, 'ingress', '0', 'from', '0', 'namespaceSelector', 'matchLabels', METADATA_NAME_LABEL));
    if (v) return v;
  }
  return undefined;
}

function secretFiltering(ks: KubeObject | undefined): boolean {
  const workloads = [...arr(at(ks?.spec, 'workloads')), ...arr(at(ks?.spec, 'deployments'))];
  for (const w of workloads) {
    for (const c of arr(at(w, 'env'))) {
      for (const e of arr(at(c, 'envVars'))) if (at(e, 'name') === SECRET_FILTERING_ENV) return at(e, 'value') === 'true';
    }
  }
  return true;
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function recoverTenants(objects: readonly KubeObject[]): Tenant[] {
  const byTenant = new Map<string, string[]>();
  const owned = new Set<string>();
  for (const ns of all(objects, '', 'Namespace')) {
    const t = ns.metadata.labels?.[TENANT_LABEL];
    if (!t) continue;
    byTenant.set(t, [...(byTenant.get(t) ?? []), ns.metadata.name]);
    owned.add(ns.metadata.name);
  }
  // The chart's per-tenant activator policy lists the tenant's namespaces (as sources, or in its hosts).
  const fromPolicies = new Map<string, string[]>();
  for (const p of all(objects, 'security.istio.io', 'AuthorizationPolicy')) {
    const m = /^allow-(.+)-to-activator$/.exec(p.metadata.name);
    if (p.metadata.namespace !== SERVING_NS || !m || at(p.spec, 'selector', 'matchLabels', 'app.kubernetes.io/component') !== 'activator')
      continue;
    const nss: string[] = [];
    for (const r of arr(at(p.spec, 'rules'))) {
      for (const f of arr(at(r, 'from')))
        for (const n of arr(at(f, 'source', 'namespaces'))) if (typeof n === 'string' && n !== EVENTING_NS) nss.push(n);
      for (const t of arr(at(r, 'to')))
        for (const h of arr(at(t, 'operation', 'hosts'))) {
          const hm = typeof h === 'string' ? /^\*\.([a-z0-9-]+)$/.exec(h) : null;
          if (hm) nss.push(hm[1]!);
        }
    }
    fromPolicies.set(m[1]!, [...new Set(nss)]);
  }
  for (const [t, nss] of fromPolicies) {
    const ordered = [...nss, ...(byTenant.get(t) ?? []).filter((n) => !nss.includes(n))];
    byTenant.set(
      t,
      ordered.filter((n) => !owned.has(n) || (byTenant.get(t) ?? []).includes(n)),
    );
  }
  return [...byTenant]
    .filter(([, nss]) => nss.length > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, namespaces]) => ({ name, namespaces }));
}

function recoverKafka(objects: readonly KubeObject[], kk: KubeObject | undefined): ServerlessMeshSpec['kafka'] {
  if (!kk) return undefined;
  const s = spec(kk);
  const servers = (str(at(s, 'broker', 'defaultConfig', 'bootstrapServers')) ?? str(at(s, 'channel', 'bootstrapServers')) ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (servers.length === 0) return undefined;
  const se = find(objects, 'networking.istio.io', 'ServiceEntry', EVENTING_NS, 'kafka-cluster');
  const sePorts = arr(at(se?.spec, 'ports'))
    .map((p) => at(p, 'number'))
    .filter((n): n is number => typeof n === 'number');
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
  return {
    enabled: true,
    bootstrapServers: servers,
    numPartitions: num(at(s, 'broker', 'defaultConfig', 'numPartitions'), 10),
    replicationFactor: num(at(s, 'broker', 'defaultConfig', 'replicationFactor'), 3),
    ports: sePorts.length ? sePorts : [...new Set(servers.map((x) => splitHostPort(x).port))],
    channel: at(s, 'channel', 'enabled') === true,
    source: at(s, 'source', 'enabled') === true,
    broker: at(s, 'broker', 'enabled') === true,
    sink: at(s, 'sink', 'enabled') === true,
  };
}

/** SMCP fields the ossm3 render reproduces (with its own values): everything else is listed. */
const HANDLED_SMCP = new Set(['version', 'profiles', 'security', 'techPreview', 'gateways', 'proxy', 'tracing', 'addons']);

function smcpUnmapped(smcp: KubeObject): Unmapped[] {
  const out: Unmapped[] = [];
  const s = spec(smcp);
  const add = (field: string, value: unknown, reason: string, blocking = false) =>
    out.push({ path: `${ref(smcp)} spec.${field}`, value, reason, ...(blocking ? { blocking } : {}) });

  if (s.version !== undefined)
    add(
      'version',
      s.version,
      `OSSM 2 product version: the Istio CR takes an Istio version (default ${'v1.27-latest'}); set spec.mesh.version to pin one`,
    );
  const profiles = arr(s.profiles);
  if (profiles.some((p) => p !== 'default')) add('profiles', profiles, 'SMCP profiles have no OSSM 3 equivalent');
  for (const [name, v] of Object.entries(isObj(s.addons) ? s.addons : {})) {
    const enabled = at(v, 'enabled') === true || (name === '3scale' && at(v, 'enabled') !== false);
    add(
      `addons.${name}`,
      v,
      enabled
        ? `addon ${name} is not part of OSSM 3: install it separately (Kiali, Prometheus, Grafana and Jaeger are separate operators)`
        : `addon ${name} is disabled; OSSM 3 has no addons, nothing to carry over`,
    );
  }
  if (s.tracing !== undefined) {
    const type = at(s.tracing, 'type');
    add(
      'tracing',
      s.tracing,
      type === 'None'
        ? 'tracing off: OSSM 3 traces nothing unless configured (meshConfig.extensionProviders), same effect'
        : 'tracing is not carried over: configure meshConfig.extensionProviders and a Telemetry resource on the Istio CR',
    );
  }
  const identity = at(s, 'security', 'identity', 'type');
  if (identity !== undefined && identity !== 'Kubernetes')
    add(
      'security.identity.type',
      identity,
      'ThirdParty token identity (ROSA) is not rendered for ossm3 (the tested OSSM 3 setup does not handle ROSA); check the OSSM 3 docs for your platform before applying',
    );
  const mtls = at(s, 'security', 'dataPlane', 'mtls');
  if (mtls !== true)
    add(
      'security.dataPlane.mtls',
      mtls ?? null,
      'mesh-wide mTLS was off: ossm3 renders a STRICT PeerAuthentication, so callers without a sidecar are refused by mesh workloads',
    );
  const npm = at(s, 'security', 'manageNetworkPolicy');
  if (npm !== undefined)
    add('security.manageNetworkPolicy', npm, 'OSSM 3 manages no NetworkPolicies; see docs/network-paths.md for the paths to allow');
  for (const k of Object.keys(isObj(s.security) ? s.security : {})) {
    if (!['dataPlane', 'identity', 'manageNetworkPolicy'].includes(k))
      add(`security.${k}`, (s.security as Record<string, unknown>)[k], 'not carried over to the Istio CR');
  }
  for (const k of Object.keys(isObj(at(s, 'security', 'dataPlane')) ? (at(s, 'security', 'dataPlane') as object) : {}))
    if (k !== 'mtls') add(`security.dataPlane.${k}`, at(s, 'security', 'dataPlane', k), 'not carried over to the Istio CR');

  // Gateways: only the Knative label on the ingress Service is part of the recipe.
  const gw = isObj(s.gateways) ? s.gateways : {};
  for (const [k, v] of Object.entries(gw)) {
    if (k === 'ingress') {
      for (const [ik, iv] of Object.entries(isObj(v) ? v : {})) {
        if (
          ik === 'service' &&
          contains(iv, { metadata: { labels: { knative: 'ingressgateway' } } }) &&
          Object.keys(isObj(iv) ? iv : {}).length === 1
        )
          continue;
        add(
          `gateways.ingress.${ik}`,
          iv,
          `ingress gateway setting: the ossm3 setup runs its own gateway (${SERVING_INGRESS_NS}/knative-istio-ingressgateway) and does not carry it over`,
        );
      }
    } else
      add(
        `gateways.${k}`,
        v,
        k === 'egress'
          ? 'egress gateway: not part of the ossm3 render; deploy one with the gateway injection template'
          : 'custom gateway: not moved (OSSM 3 gateways are Deployments you run, not SMCP fields)',
      );
  }

  // Proxy: the inbound exclusions become the Istio CR's excludeInboundPorts; the rest is listed.
  const proxy = isObj(s.proxy) ? s.proxy : {};
  const excluded = arr(at(proxy, 'networking', 'trafficControl', 'inbound', 'excludedPorts')).map(Number);
  const extra = excluded.filter((p) => !ossm3.excludedInboundPorts.includes(p));
  if (extra.length)
    add(
      'proxy.networking.trafficControl.inbound.excludedPorts',
      excluded,
      `ports ${extra.join(', ')} are not excluded from capture by the ossm3 render`,
    );
  for (const [k, v] of Object.entries(proxy)) {
    if (k === 'networking') {
      const rest = { ...(isObj(v) ? v : {}) };
      const tc = isObj(rest.trafficControl) ? { ...rest.trafficControl } : undefined;
      if (tc && isObj(tc.inbound)) {
        const inbound = { ...tc.inbound };
        delete inbound.excludedPorts;
        if (Object.keys(inbound).length) add('proxy.networking.trafficControl.inbound', inbound, 'not carried over');
        delete tc.inbound;
      }
      if (tc && Object.keys(tc).length) add('proxy.networking.trafficControl', tc, 'not carried over');
      delete rest.trafficControl;
      if (Object.keys(rest).length) add('proxy.networking', rest, 'not carried over');
    } else if (k === 'accessLogging')
      add(
        'proxy.accessLogging',
        v,
        'access logging is not rendered for ossm3: set values.meshConfig.accessLogFile (and accessLogFormat) on the Istio CR',
      );
    else add(`proxy.${k}`, v, 'not carried over to the Istio CR');
  }
  const tp = isObj(s.techPreview) ? s.techPreview : {};
  const drainOnly =
    contains(tp, { meshConfig: { defaultConfig: { terminationDrainDuration: '35s' } } }) &&
    Object.keys(tp).length === 1 &&
    Object.keys(at(tp, 'meshConfig') as object).length === 1 &&
    Object.keys(at(tp, 'meshConfig', 'defaultConfig') as object).length === 1;
  if (Object.keys(tp).length && !drainOnly)
    add('techPreview', tp, 'only terminationDrainDuration: 35s is carried over (values.meshConfig.defaultConfig on the Istio CR)');

  for (const [k, v] of Object.entries(s)) if (!HANDLED_SMCP.has(k)) add(k, v, 'no OSSM 3 equivalent in the ossm3 render: not carried over');
  return out;
}

/** The old gateway Service Routes point at on OSSM 2 (`istio-ingressgateway` in the mesh namespace). */
export const OLD_GATEWAY_SERVICE = 'external' in ossm2.gateway.ingressService ? ossm2.gateway.ingressService.name : 'istio-ingressgateway';
