/**
 * Eventing paths (research users-and-anchors.md P7): a tenant's pods POST to the shared broker
 * ingress (`/<namespace>/<broker>`), to a channel (Host `<channel>-kn-channel.<namespace>`) and to
 * sinks (`/<namespace>/<sink>`); the shared receivers authorise by path or Host, and the eventing
 * senders by the `Kn-Namespace` header, which only they may set. Same-unit requests must pass,
 * cross-unit ones fail, and a tenant pod that sets `Kn-Namespace` itself must not get in.
 */
import { SERVICE_HTTP_PORT, type EventingModel, type Hop, type KnativeModel, type Ksvc, type Workload } from '../authz/knative.ts';
import { EVENTING_NS, QUEUE_PORT, svcHost } from '../model/constants.ts';
import type { ResourceRef } from '../report/finding.ts';
import { unitOf, type Expectation } from './expectations.ts';
import type { PathOutcome, Verifier } from './hop-cache.ts';

export type EventingVia =
  'broker-ingress' | 'spoofed-kn-namespace' | 'channel' | 'job-sink' | 'kafka-sink' | 'kafka-broker' | 'kafka-channel' | 'event-delivery';

export interface EventingRow {
  from: string;
  to: string;
  via: EventingVia;
  expected: Expectation;
  allowed: boolean;
  hop: string;
  policy: string | null;
  reason: string;
}

interface EventingPath {
  via: EventingVia;
  target: string;
  resource: ResourceRef;
  dest: Workload;
  host: string;
  path: string;
  headers: Record<string, string>;
  service: string;
  /** Only sources outside the target's unit (the spoofing case). */
  crossOnly?: boolean;
}

const RECEIVER_PORT = 8080;

const hopLabel = (p: EventingPath, from: string) =>
  `${from}/client → ${p.dest.namespace}/${p.dest.name} :${RECEIVER_PORT} POST ${p.path}${p.headers['Kn-Namespace'] ? ` (Kn-Namespace: ${p.headers['Kn-Namespace']})` : ''}`;

/** The hop of one eventing request; its label is left empty (a row builds it with `hopLabel` when kept). */
function hopFor(p: EventingPath, from: string): Hop {
  return {
    label: '',
    client: { namespace: from, serviceAccount: 'default', sidecar: true, name: 'client' },
    dest: p.dest,
    port: RECEIVER_PORT,
    // broker-ingress, imc-dispatcher, job-sink and the kafka-{broker,channel,sink}-ingress Services: 80 → 8080.
    servicePort: SERVICE_HTTP_PORT,
    host: p.host,
    path: p.path,
    method: 'POST',
    headers: p.headers,
    service: p.service,
    serviceNamespace: p.service.split('.')[1] ?? EVENTING_NS,
  };
}

function pathsInto(m: KnativeModel, ns: string): EventingPath[] {
  const e = m.eventing!;
  const ref = (apiVersion: string, kind: string, name: string): ResourceRef => ({ apiVersion, kind, namespace: ns, name });
  const out: EventingPath[] = [
    {
      via: 'broker-ingress',
      target: `${ns}/default`,
      resource: ref('eventing.knative.dev/v1', 'Broker', 'default'),
      dest: e.brokerIngress,
      host: svcHost('broker-ingress', EVENTING_NS),
      path: `/${ns}/default`,
      headers: {},
      service: svcHost('broker-ingress', EVENTING_NS),
    },
    {
      via: 'spoofed-kn-namespace',
      target: `${ns}/default`,
      resource: ref('eventing.knative.dev/v1', 'Broker', 'default'),
      dest: e.brokerIngress,
      host: svcHost('broker-ingress', EVENTING_NS),
      path: `/${ns}/default`,
      headers: { 'Kn-Namespace': ns },
      service: svcHost('broker-ingress', EVENTING_NS),
      crossOnly: true,
    },
    {
      via: 'channel',
      target: `${ns}/channel`,
      resource: ref('messaging.knative.dev/v1', 'InMemoryChannel', 'channel'),
      dest: e.imcDispatcher,
      host: svcHost('channel-kn-channel', ns),
      path: '/',
      headers: {},
      service: svcHost('channel-kn-channel', ns),
    },
    {
      via: 'job-sink',
      target: `${ns}/sink`,
      resource: ref('sinks.knative.dev/v1alpha1', 'JobSink', 'sink'),
      dest: e.jobSink,
      host: svcHost('job-sink', EVENTING_NS),
      path: `/${ns}/sink`,
      headers: {},
      service: svcHost('job-sink', EVENTING_NS),
    },
  ];
  // Knative Kafka: a Kafka-class Broker's address is kafka-broker-ingress/<namespace>/<broker>; a
  // KafkaChannel's is <channel>-kn-channel.<namespace> (an ExternalName for kafka-channel-ingress), so the
  // receivers decide by path and by Host as the mt-broker and IMC ones do.
  if (e.kafkaBroker)
    out.push({
      via: 'kafka-broker',
      target: `${ns}/kafka`,
      resource: ref('eventing.knative.dev/v1', 'Broker', 'kafka'),
      dest: e.kafkaBroker,
      host: svcHost('kafka-broker-ingress', EVENTING_NS),
      path: `/${ns}/kafka`,
      headers: {},
      service: svcHost('kafka-broker-ingress', EVENTING_NS),
    });
  if (e.kafkaChannel)
    out.push({
      via: 'kafka-channel',
      target: `${ns}/kafka-channel`,
      resource: ref('messaging.knative.dev/v1beta1', 'KafkaChannel', 'kafka-channel'),
      dest: e.kafkaChannel,
      host: svcHost('kafka-channel-kn-channel', ns),
      path: '/',
      headers: {},
      service: svcHost('kafka-channel-kn-channel', ns),
    });
  if (e.kafkaSink)
    out.push({
      via: 'kafka-sink',
      target: `${ns}/sink`,
      resource: ref('eventing.knative.dev/v1alpha1', 'KafkaSink', 'sink'),
      dest: e.kafkaSink,
      host: svcHost('kafka-sink-ingress', EVENTING_NS),
      path: `/${ns}/sink`,
      headers: {},
      service: svcHost('kafka-sink-ingress', EVENTING_NS),
    });
  return out;
}

/** The broker filter's delivery of a tenant's event to one of its Knative Services. */
function deliveryHop(e: EventingModel, k: Ksvc): Hop {
  const f = e.brokerFilter;
  return {
    label: `${f.namespace}/${f.name} → ${k.namespace}/${k.revision} (queue-proxy :${QUEUE_PORT}) POST / (Kn-Namespace: ${k.namespace})`,
    client: { namespace: f.namespace, serviceAccount: f.serviceAccount, sidecar: f.sidecar, name: f.name },
    dest: k.pod,
    port: QUEUE_PORT,
    servicePort: SERVICE_HTTP_PORT,
    host: k.host,
    path: '/',
    method: 'POST',
    headers: { 'Kn-Namespace': k.namespace },
    service: svcHost(k.revision, k.namespace),
    serviceNamespace: k.namespace,
  };
}

/**
 * The event-delivery outcome for `k` when `eventingPaths` will ask for it (eventing and serving
 * installed, sources present, `k` in a unit), else undefined. The ksvc loop asks it while the
 * ksvc's pod is still cached, and hands the outcomes to `eventingPaths` (`delivered`).
 */
export function eventDelivery(v: Verifier, k: Ksvc): PathOutcome | undefined {
  const m = v.m;
  if (!m.eventing || !m.serving || m.sources.length === 0 || unitOf(m, k.namespace) === undefined) return undefined;
  return v.outcome([deliveryHop(m.eventing, k)], 'serve');
}

export interface EventingResult {
  rows: EventingRow[];
  /** Rows that break their expectation (every one, also when rows are not expanded). */
  bad: Array<EventingRow & { resource: ResourceRef }>;
  classes: number;
}

/**
 * Every eventing path into every namespace of an isolation unit. Sources are grouped like
 * `classifyTarget` does: only the sources a live rule for this request (host and path) names, or
 * whose sidecar may resolve another DestinationRule, are evaluated one by one.
 */
export function eventingPaths(
  v: Verifier,
  opts: {
    expandRows: boolean;
    reference?: boolean;
    /** Event-delivery outcomes already asked (`eventDelivery`), by ksvc. */
    delivered?: ReadonlyMap<Ksvc, PathOutcome>;
  },
): EventingResult {
  const m = v.m;
  const res: EventingResult = { rows: [], bad: [], classes: 0 };
  if (!m.eventing || m.sources.length === 0) return res;
  const targets = [...new Set([...m.tenantOf.keys(), ...m.members])].filter((ns) => unitOf(m, ns) !== undefined).sort();
  const units = m.sources.map((s) => unitOf(m, s));
  const byUnit = new Map<string, number[]>();
  units.forEach((u, i) => {
    if (u !== undefined) (byUnit.get(u) ?? byUnit.set(u, []).get(u)!).push(i);
  });
  const sensitive = v.clientSensitive();
  const indexOf = new Map(m.sources.map((s, i) => [s, i]));
  let last: { dest: Workload; host: string; path: string; entry: ReturnType<Verifier['forPath']> } | undefined;
  for (const ns of targets) {
    const tu = unitOf(m, ns)!;
    const own = byUnit.get(tu) ?? [];
    for (const p of pathsInto(m, ns)) {
      // The spoofing case asks what the broker-ingress path just asked (same receiver, host and path).
      const entry =
        last && last.dest === p.dest && last.host === p.host && last.path === p.path ? last.entry : v.forPath(p.dest, p.host, p.path);
      last = { dest: p.dest, host: p.host, path: p.path, entry };
      // The reference evaluation (tests) tells every source apart.
      const named: ReadonlySet<string> = opts.reference
        ? new Set(m.sources)
        : sensitive.size === 0
          ? entry.distinguished
          : new Set([...entry.distinguished, ...sensitive]);
      const row = (i: number, o: ReturnType<Verifier['outcome']>): EventingRow => {
        const s = m.sources[i]!;
        return {
          from: s,
          to: p.target,
          via: p.via,
          expected: units[i] === tu ? 'allow' : 'deny',
          allowed: o.allowed,
          hop: hopLabel(p, s),
          policy: o.policy,
          reason: o.reason,
        };
      };
      const emit = (i: number, o: ReturnType<Verifier['outcome']>) => {
        const same = units[i] === tu;
        if (p.crossOnly && same) return;
        const r = row(i, o);
        if (opts.expandRows) res.rows.push(r);
        if (same !== o.allowed && res.bad.length < 1000) res.bad.push({ ...r, resource: p.resource });
      };
      // Sources a live rule names (or that may resolve another DestinationRule): one by one, in `m.sources` order.
      const namedIdx: number[] = [];
      for (const s of named) {
        const i = indexOf.get(s);
        if (i !== undefined) namedIdx.push(i);
      }
      if (namedIdx.length > 1) namedIdx.sort((a, b) => a - b);
      const namedCount = namedIdx.length;
      // Named sources matching the same patterns of the live rules (and resolving the common
      // DestinationRule) get the same outcome, as in classifyTarget: one evaluation each.
      const bySig = new Map<string, ReturnType<Verifier['outcome']>>();
      for (const i of namedIdx) {
        const s = m.sources[i]!;
        const sig = opts.reference || sensitive.has(s) ? null : (entry.signatures.get(s) ?? '');
        let o = sig === null ? undefined : bySig.get(sig);
        if (!o) {
          o = v.outcomeForPath(hopFor(p, s), entry);
          if (sig !== null) bySig.set(sig, o);
        }
        emit(i, o);
        res.classes++;
      }
      // Everyone else behaves like one representative: expanded, or counted.
      if (namedCount === m.sources.length) continue;
      const repIndex = m.sources.findIndex((s, i) => !named.has(s) && !(p.crossOnly && units[i] === tu));
      if (repIndex < 0) continue;
      const rep = v.outcomeForPath(hopFor(p, m.sources[repIndex]!), entry);
      res.classes++;
      if (opts.expandRows) {
        m.sources.forEach((s, i) => {
          if (!named.has(s)) emit(i, rep);
        });
        continue;
      }
      // Counting: only the rows that break their expectation are listed (bounded).
      if (rep.allowed) {
        for (let i = 0; i < m.sources.length && res.bad.length < 1000; i++) if (!named.has(m.sources[i]!) && units[i] !== tu) emit(i, rep);
      } else if (!p.crossOnly) {
        for (const i of own) if (!named.has(m.sources[i]!) && res.bad.length < 1000) emit(i, rep);
      }
    }
  }
  // The broker filter delivers a tenant's events to its Knative Services, with the tenant's Kn-Namespace.
  if (m.serving) {
    for (const k of m.ksvcs) {
      if (unitOf(m, k.namespace) === undefined) continue;
      const hop = deliveryHop(m.eventing, k);
      let o = opts.delivered?.get(k);
      if (!o) {
        o = v.outcome([hop], 'serve');
        // Asked once per ksvc: nothing to keep for its pod.
        v.release(k.pod, [], []);
      }
      const row: EventingRow = {
        from: EVENTING_NS,
        to: `${k.namespace}/${k.name}`,
        via: 'event-delivery',
        expected: 'allow',
        allowed: o.allowed,
        hop: hop.label,
        policy: o.policy,
        reason: o.reason,
      };
      if (opts.expandRows) res.rows.push(row);
      if (!o.allowed && res.bad.length < 1000)
        res.bad.push({ ...row, resource: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', namespace: k.namespace, name: k.name } });
      res.classes++;
    }
  }
  return res;
}
