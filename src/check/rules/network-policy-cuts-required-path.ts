import type { ServerlessMeshSpec } from '../../api/types.ts';
import { METADATA_NAME_LABEL, SERVING_NS } from '../../model/constants.ts';
import { networkPaths, type PodSet } from '../../render/network-paths.ts';
import { profileFor } from '../../flavors/index.ts';
import { KKAFKA, KEVENTING, KSERVING, NAMESPACE, NETWORK_POLICY, SMMR } from '../context.ts';
import { admits, isolationOf, type Caller, type KnownLabels } from '../network-policy.ts';
import type { KubeObject } from '../../util/kube.ts';
import type { Hit, Rule } from '../types.ts';
import { get, strs } from '../util.ts';

/**
 * Rows of docs/network-paths.md that Knative needs to work: webhooks, gateways, activator,
 * autoscaler, eventing receivers and delivery. Row 12 (a tenant's namespaces reaching each other) is
 * left out: narrowing a tenant's own namespaces is the tenant's choice, and `verify` reports it.
 */
const REQUIRED_ROWS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

export const networkPolicyCutsRequiredPath: Rule = {
  meta: {
    code: 'SM2012',
    name: 'network-policy-cuts-required-path',
    severity: 'error',
    title: 'NetworkPolicy cuts a path Knative needs',
    description:
      'A NetworkPolicy that selects a pod denies every ingress connection no policy admits. A default-deny (or a narrow allow-list) in a tenant, Knative or gateway namespace that does not admit a path of docs/network-paths.md breaks Knative without an Istio error: the activator or gateway cannot reach revisions (503, ksvc never Ready), the autoscaler cannot scrape queue-proxy (no scaling), the apiserver cannot call a webhook, events are not delivered. Reported only when certain: a selector on labels the inputs do not carry, a named port or an ipBlock that may hold the caller leaves the path undecided, not reported. Namespaces are matched by their labels when the Namespace objects are among the inputs (always in --cluster), else by `kubernetes.io/metadata.name` alone.',
    source: 'docs/network-paths.md (rows 1–11); seed 003 §1.6 (NetworkPolicies in member namespaces); research users-and-anchors.md P25',
    fix: 'Add an ingress rule admitting the listed callers on the listed ports to a policy that selects those pods, or render them with `networkPolicies: generate` (docs/network-paths.md gives one NetworkPolicy per path).',
    inputs: [NETWORK_POLICY],
  },
  check(ctx) {
    const all = ctx.index.of(NETWORK_POLICY);
    if (!all.length) return [];
    const byNamespace = new Map<string, KubeObject[]>();
    for (const p of all) {
      const ns = p.metadata.namespace ?? '';
      const list = byNamespace.get(ns);
      if (list) list.push(p);
      else byNamespace.set(ns, [p]);
    }
    // The Kourier variant (Knative outside the mesh) has its own paths and rule (SM2010).
    if (ctx.index.of(SMMR).some((r) => !strs(get(r, 'spec', 'members')).includes(SERVING_NS))) return [];
    const m = ctx.model();
    const profile = ctx.profile ?? profileFor('ossm2');
    const tenants = new Map<string, string[]>();
    for (const [ns, t] of m.tenantOf) tenants.set(t, [...(tenants.get(t) ?? []), ns]);
    const kafka = m.eventing && (m.eventing.kafkaBroker || m.eventing.kafkaChannel || m.eventing.kafkaSink);
    const monitoring = 'openshift-monitoring';
    const spec = {
      mesh: { namespace: ctx.meshNamespace },
      serving: { enabled: m.serving && ctx.index.has(KSERVING) },
      eventing: { enabled: m.eventing !== null && ctx.index.has(KEVENTING) },
      kafka:
        kafka && ctx.index.has(KKAFKA)
          ? { enabled: true, broker: !!m.eventing?.kafkaBroker, channel: !!m.eventing?.kafkaChannel, sink: !!m.eventing?.kafkaSink }
          : undefined,
      tenants: [...tenants].map(([name, namespaces]) => ({ name, namespaces: namespaces.sort() })),
      members: m.members,
      // Cluster monitoring scrapes Knative only where it runs: its namespace among the inputs says so.
      metrics: { enabled: ctx.index.get(NAMESPACE, undefined, monitoring) !== undefined, monitoringNamespace: monitoring },
    } as unknown as ServerlessMeshSpec;

    const nsLabels = (ns: string): KnownLabels => {
      const o = ctx.index.get(NAMESPACE, undefined, ns);
      // The apiserver (≥ 1.21) sets kubernetes.io/metadata.name on every namespace; a Namespace read whole has no other labels.
      return o
        ? { labels: { ...o.metadata.labels, [METADATA_NAME_LABEL]: ns }, complete: true }
        : { labels: { [METADATA_NAME_LABEL]: ns }, complete: false };
    };
    const podOf = (s: PodSet): KnownLabels => ({ labels: s.pods ?? {}, complete: false });
    const out: Hit[] = [];
    for (const p of networkPaths(spec, profile)) {
      if (!REQUIRED_ROWS.has(p.row)) continue;
      const callers: Array<{ what: string; caller: Caller }> =
        p.from === 'anywhere'
          ? [{ what: 'host-network and outside callers', caller: { anywhere: true } }]
          : p.from.map((f) => ({
              what: `${f.namespace}${
                f.pods
                  ? ` ${Object.entries(f.pods)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(',')}`
                  : ''
              }`,
              caller: { namespace: f.namespace, namespaceLabels: nsLabels(f.namespace), pod: podOf(f) },
            }));
      const ports = p.ports === 'all' ? [undefined] : p.ports;
      const policies = byNamespace.get(p.to.namespace) ?? [];
      if (!policies.length) continue;
      const iso = isolationOf(policies, { namespace: p.to.namespace, pod: podOf(p.to) });
      if (iso.isolated !== 'yes') continue; // nothing certainly isolates these pods
      const cut: string[] = [];
      for (const c of callers) {
        const refused = ports.filter((port) => admits(iso, c.caller, port) === 'no');
        if (refused.length) cut.push(`${c.what}${p.ports === 'all' ? '' : ` (port ${refused.join(', ')})`}`);
      }
      const selecting = iso.selecting[0];
      if (!cut.length || !selecting) continue;
      const pods = p.to.pods
        ? ` pods ${Object.entries(p.to.pods)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`
        : ' every pod';
      out.push({
        object: selecting,
        message: `NetworkPolicies in ${p.to.namespace} isolate${pods} and admit none of: ${cut.join('; ')} — ${p.why} (docs/network-paths.md row ${p.row}, ${p.name})`,
        path: ['spec', 'podSelector'],
      });
    }
    return out;
  },
};
