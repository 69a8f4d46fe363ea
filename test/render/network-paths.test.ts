/**
 * NetworkPolicies of ossm3 / istio (`networkPolicies: generate`; none by default, seed 000): each path of
 * the table (render/network-paths.ts, docs/network-paths.md) has a policy admitting it, nothing beyond
 * the table is admitted, every hop the data-path model of `verify` needs passes, and the docs list
 * exactly the table's rows. NetworkPolicy semantics are evaluated here, independently of the table code
 * (kubernetes.io/docs/concepts/services-networking/network-policies): a pod selected by an Ingress policy
 * accepts only what one of the selecting policies admits; a rule without `from` admits every source,
 * without `ports` every port; peers AND their namespaceSelector and podSelector; traffic from the pod's
 * own node (kubelet) is always allowed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/api/load.ts';
import type { MeshFlavor, ServerlessMesh } from '../../src/api/types.ts';
import { callerIn, modelFromObjects, pathHops, requiredEdges, systemEdges, type Hop } from '../../src/authz/knative.ts';
import { verifyModel, variantsOf } from '../../src/authz/verify.ts';
import { profileFor } from '../../src/flavors/index.ts';
import { render } from '../../src/render/index.ts';
import { networkPathPolicies, networkPaths, type NetworkPath } from '../../src/render/network-paths.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, ROOT, TEST_TLS } from '../helpers/shared.ts';

const spec = (flavor: MeshFlavor, extra = ''): ServerlessMesh =>
  parseSpec(
    's.yaml',
    `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: np}
spec:
  mesh: {flavor: ${flavor}}
  domain: apps.example.com
  kafka: {bootstrapServers: [my-cluster-kafka-bootstrap.kafka:9092]}
  members: [plain]
  tenants:
    - {name: a, namespaces: [a-1, a-2]}
    - {name: b, namespaces: [b-1]}
${extra}`,
  );

const netpols = (objs: KubeObject[]) => objs.filter((o) => o.kind === 'NetworkPolicy');

/** A caller: a pod (namespace + labels), or a host-network / out-of-cluster client no selector names. */
type Source = { host: true; what: string } | { host?: false; ns: string; labels: Record<string, string> };
interface Pod {
  ns: string;
  labels: Record<string, string>;
}

const matchLabels = (sel: any, labels: Record<string, string>) => {
  assert.equal(sel?.matchExpressions, undefined, 'matchExpressions are not used by render');
  return Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
};
const nsLabels = (ns: string) => ({ 'kubernetes.io/metadata.name': ns });

/** NetworkPolicy ingress semantics over rendered objects. */
function policiesAdmit(policies: KubeObject[], src: Source, dst: Pod, port: number): boolean {
  const selecting = policies.filter(
    (p: any) =>
      p.metadata.namespace === dst.ns &&
      matchLabels(p.spec.podSelector, dst.labels) &&
      (p.spec.policyTypes ?? ['Ingress']).includes('Ingress'),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p: any) =>
    (p.spec.ingress ?? []).some((rule: any) => {
      const portOk = !rule.ports?.length || rule.ports.some((x: any) => x.port === port && (x.protocol ?? 'TCP') === 'TCP');
      if (!portOk) return false;
      if (!rule.from?.length) return true;
      if (src.host) return false; // no ipBlock is rendered
      return rule.from.some((peer: any) => {
        assert.equal(peer.ipBlock, undefined);
        const nsOk = peer.namespaceSelector ? matchLabels(peer.namespaceSelector, nsLabels(src.ns)) : src.ns === p.metadata.namespace;
        return nsOk && (!peer.podSelector || matchLabels(peer.podSelector, src.labels));
      });
    }),
  );
}

/** The same question asked of the table (what docs/network-paths.md promises). */
function tableAdmits(paths: NetworkPath[], src: Source, dst: Pod, port: number): boolean {
  const sub = (want: Record<string, string> | undefined, have: Record<string, string>) =>
    Object.entries(want ?? {}).every(([k, v]) => have[k] === v);
  const selecting = paths.filter((p) => p.to.namespace === dst.ns && sub(p.to.pods, dst.labels));
  if (selecting.length === 0) return true;
  return selecting.some(
    (p) =>
      (p.ports === 'all' || p.ports.includes(port)) &&
      (p.from === 'anywhere' || (!src.host && p.from.some((f) => f.namespace === src.ns && sub(f.pods, src.labels)))),
  );
}

const comp = (c: string) => ({ 'app.kubernetes.io/component': c });
const GATEWAY = { knative: 'ingressgateway', 'knative-ingress-gateway': 'ingressgateway', 'knative-local-gateway': 'ingressgateway' };
/** Every pod kind of the installation, plus pods of namespaces that are none of ours. */
const PODS: Pod[] = [
  ...['activator', 'autoscaler', 'webhook', 'net-istio-webhook', 'net-istio-controller', 'controller', 'autoscaler-hpa'].map((app) => ({
    ns: 'knative-serving',
    labels: { app },
  })),
  { ns: 'knative-serving-ingress', labels: GATEWAY },
  ...[
    'eventing-webhook',
    'imc-controller',
    'broker-ingress',
    'broker-filter',
    'imc-dispatcher',
    'job-sink',
    'kafka-broker-receiver',
    'kafka-channel-receiver',
    'kafka-sink-receiver',
    'pingsource-mt-adapter',
    'kafka-controller',
  ].map((c) => ({ ns: 'knative-eventing', labels: comp(c) })),
  { ns: 'knative-eventing', labels: { app: 'kafka-webhook-eventing' } },
  ...['a-1', 'a-2', 'b-1', 'plain', 'openshift-monitoring', 'outsider', 'istio-system'].map((ns) => ({ ns, labels: { app: 'x' } })),
];
const SOURCES: Source[] = [
  { host: true, what: 'host network / outside the cluster' },
  ...PODS.map((p) => ({ ns: p.ns, labels: p.labels })),
];
const PORTS = [80, 443, 5432, 8008, 8012, 8013, 8022, 8080, 8081, 8112, 8443, 8444, 9090, 9091, 15020, 15021, 15090];

const describeSrc = (s: Source) => (s.host ? s.what : `${s.ns}/${JSON.stringify(s.labels)}`);

for (const flavor of ['ossm3', 'istio'] as const) {
  describe(`${flavor}: NetworkPolicies`, () => {
    it("none by default (seed 000), the operator's switched off on KnativeServing and KnativeEventing", () => {
      const objs = render(spec(flavor), { tls: TEST_TLS });
      assert.deepEqual(netpols(objs), []);
      for (const kind of ['KnativeServing', 'KnativeEventing']) {
        const cr = objs.find((o) => o.kind === kind)!;
        assert.equal(cr.metadata.annotations?.['serverless.openshift.io/disable-istio-net-policies-generation'], 'true', kind);
      }
      assert.deepEqual(netpols(render(example(`${flavor}-tenants`), { tls: TEST_TLS })), []);
    });

    const mesh = spec(flavor, '  networkPolicies: generate\n');
    const profile = profileFor(flavor);
    const objs = render(mesh, { tls: TEST_TLS });
    const policies = netpols(objs);
    const paths = networkPaths(mesh.spec, profile);

    it("generate: one policy per path, in the namespaces of Knative and of the tenants only; the operator's stay off", () => {
      assert.deepEqual(policies, networkPathPolicies(paths));
      const ids = policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      assert.equal(new Set(ids).size, ids.length, 'names unique per namespace');
      assert.deepEqual([...new Set(policies.map((p) => p.metadata.namespace))].sort(), [
        'a-1',
        'a-2',
        'b-1',
        'knative-eventing',
        'knative-serving',
        'knative-serving-ingress',
      ]);
      assert.ok(
        policies.every((p: any) => JSON.stringify(p.spec.policyTypes) === '["Ingress"]'),
        'ingress only: egress (Kafka, istiod) is not restricted',
      );
      const ks = objs.find((o) => o.kind === 'KnativeServing')!;
      assert.equal(ks.metadata.annotations?.['serverless.openshift.io/disable-istio-net-policies-generation'], 'true');
    });

    it('each path of the table has a policy admitting it, on each of its ports', () => {
      for (const p of paths) {
        const dst: Pod = PODS.find(
          (x) => x.ns === p.to.namespace && Object.entries(p.to.pods ?? {}).every(([k, v]) => x.labels[k] === v),
        ) ?? { ns: p.to.namespace, labels: { ...p.to.pods } };
        const srcs: Source[] =
          p.from === 'anywhere'
            ? [SOURCES[0]!, { ns: 'outsider', labels: {} }]
            : p.from.map((f) => ({ ns: f.namespace, labels: { ...f.pods } }));
        for (const src of srcs)
          for (const port of p.ports === 'all' ? PORTS : p.ports)
            assert.ok(policiesAdmit(policies, src, dst, port), `row ${p.row} ${p.name}: ${describeSrc(src)} → ${dst.ns}:${port}`);
      }
    });

    it('nothing beyond the table: over every caller × pod × port, the policies admit exactly what the table admits', () => {
      let isolatedChecks = 0;
      for (const src of SOURCES)
        for (const dst of PODS)
          for (const port of PORTS) {
            const want = tableAdmits(paths, src, dst, port);
            assert.equal(
              policiesAdmit(policies, src, dst, port),
              want,
              `${describeSrc(src)} → ${dst.ns}/${JSON.stringify(dst.labels)}:${port}`,
            );
            if (!want) isolatedChecks++;
          }
      assert.ok(isolatedChecks > 1000, 'the universe exercises denials');
    });

    it('reasoned denials: what the table must not admit', () => {
      const deny = (src: Source, dst: Pod, ports: number[], why: string) => {
        for (const port of ports)
          assert.equal(policiesAdmit(policies, src, dst, port), false, `${why}: ${describeSrc(src)} → ${dst.ns}:${port}`);
      };
      const pod = (ns: string, labels: Record<string, string> = { app: 'x' }) => ({ ns, labels });
      const host = SOURCES[0]!;
      // Tenant isolation on the network layer: no port of another tenant, of members or outsiders.
      deny(pod('b-1'), pod('a-1'), PORTS, 'another tenant');
      deny(pod('plain'), pod('a-1'), PORTS, 'a member is no tenant');
      deny(pod('outsider'), pod('a-2'), PORTS, 'outside the mesh');
      deny(host, pod('a-1'), PORTS, "host network / remote node (kubelet of the pod's own node is always allowed)");
      // Knative system pods: only their own ports, only from their callers.
      deny(pod('a-1'), pod('knative-serving', { app: 'autoscaler' }), PORTS, 'tenants do not talk to the autoscaler');
      deny(pod('outsider'), pod('knative-serving', { app: 'activator' }), PORTS, 'the activator serves the mesh only');
      deny(pod('a-1'), pod('knative-serving', { app: 'activator' }), [8022, 8080, 9090], 'activator: only the queue ports');
      deny(pod('openshift-monitoring'), pod('knative-serving', { app: 'activator' }), [8012, 8080], 'monitoring: only metrics ports');
      deny(pod('outsider'), pod('knative-serving', { app: 'webhook' }), [8080, 9090], 'webhook: only 8443');
      deny(pod('a-1'), pod('knative-serving', { app: 'controller' }), PORTS, 'controller: no ingress but metrics');
      deny(pod('a-1'), pod('knative-eventing', comp('broker-filter')), PORTS, 'broker-filter: knative-eventing only');
      deny(pod('outsider'), pod('knative-eventing', comp('broker-ingress')), PORTS, 'receivers: the mesh namespaces only');
      deny(pod('a-1'), pod('knative-eventing', comp('broker-ingress')), [8012, 9090], 'receivers: their HTTP port only');
      // The plain-HTTP cluster-local listener is not open to namespaces outside the mesh; the external one is.
      deny(pod('outsider'), pod('knative-serving-ingress', GATEWAY), [profile.gateway.local.containerPort, 15021], 'local listener');
      assert.ok(policiesAdmit(policies, pod('outsider'), pod('knative-serving-ingress', GATEWAY), profile.gateway.external.containerPort));
      assert.ok(policiesAdmit(policies, host, pod('knative-serving-ingress', GATEWAY), profile.gateway.external.containerPort));
      // Namespaces render does not own are not touched.
      assert.ok(policiesAdmit(policies, pod('outsider'), pod('plain'), 5432));
      assert.ok(policiesAdmit(policies, pod('outsider'), pod('istio-system', { app: 'istiod' }), 15012));
    });

    it("every hop verify's data-path model needs is admitted: same-tenant and external paths, activator probes, metrics, prober, websocket", () => {
      const m = modelFromObjects(
        objs.filter((o) => ['AuthorizationPolicy', 'PeerAuthentication', 'Istio', 'Namespace'].includes(o.kind)),
        {
          flavor,
          tenants: mesh.spec.tenants,
          members: mesh.spec.members,
          domain: 'apps.example.com',
          excludedPorts: profile.excludedInboundPorts,
        },
      );
      const labelsOf: Record<string, Record<string, string>> = {
        [`${m.activator.namespace}/${m.activator.name}`]: m.activator.labels,
        [`${m.autoscaler.namespace}/${m.autoscaler.name}`]: m.autoscaler.labels,
        [`${m.gateway.namespace}/${m.gateway.name}`]: m.gateway.labels,
        'knative-serving/net-istio-controller': { app: 'net-istio-controller' },
      };
      const admitted = (h: Hop) => {
        // The kubelet calls pods on its own node: always allowed (the PreStop hook, probes).
        if (h.client.namespace === 'node') return true;
        const src: Source =
          h.client.namespace === profile.authz.externalCaller.namespace
            ? { host: true, what: 'router' }
            : { ns: h.client.namespace, labels: labelsOf[`${h.client.namespace}/${h.client.name}`] ?? {} };
        return policiesAdmit(policies, src, { ns: h.dest.namespace, labels: h.dest.labels }, h.port);
      };
      let hops = 0;
      const rep = verifyModel(m);
      for (const row of rep.paths.filter((p) => p.allowed && p.via !== 'no-sidecar')) {
        const k = m.ksvcs.find((x) => `${x.namespace}/${x.name}` === row.to)!;
        const variants = variantsOf(row.via).map((v) => pathHops(m, callerIn(row.from), k, row.via, v));
        assert.ok(
          variants.some((hs) => hs.every(admitted)),
          `${row.from} → ${row.to} via ${row.via}: blocked by a NetworkPolicy`,
        );
        hops += variants.flat().length;
      }
      for (const e of [...m.ksvcs.flatMap((k) => requiredEdges(m, k)), ...systemEdges(m)]) {
        assert.ok(
          e.alternatives.some((a) => a.hops.every(admitted)),
          `required edge ${e.description}: blocked by a NetworkPolicy`,
        );
        hops++;
      }
      assert.ok(hops > 50);
    });

    it('docs/network-paths.md lists every row of the table, with its policy names', () => {
      const md = readFileSync(join(ROOT, 'docs', 'network-paths.md'), 'utf8');
      const rows = new Map<number, string>();
      for (const line of md.split('\n')) {
        const mm = /^\| (\d+) \|/.exec(line);
        if (mm) rows.set(Number(mm[1]), line);
      }
      const tableRows = [...new Set(paths.map((p) => p.row))].sort((a, b) => a - b);
      assert.deepEqual(
        tableRows,
        tableRows.map((_, i) => i + 1),
        'rows numbered 1..n',
      );
      for (const p of paths) {
        const line = rows.get(p.row);
        assert.ok(line, `row ${p.row} missing in docs/network-paths.md`);
        assert.ok(line.includes(`\`${p.name}\``), `row ${p.row}: policy ${p.name} not named in docs/network-paths.md`);
        if (p.ports !== 'all')
          for (const port of p.ports) assert.ok(line.includes(String(port)), `row ${p.row}: port ${port} not in docs/network-paths.md`);
      }
    });
  });
}

describe("ossm2: networkPolicies keeps its meaning (the Serverless operator's policies)", () => {
  it("generate (default) leaves the annotation off and renders no policy of the operator's; disabled sets it", () => {
    const gen = render(spec('ossm2'), { tls: TEST_TLS });
    assert.equal(gen.find((o) => o.kind === 'KnativeServing')!.metadata.annotations, undefined);
    // The operator generates allow-from-openshift-monitoring-ns itself (test/render/network-policies.test.ts).
    assert.deepEqual(
      netpols(gen).map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
      [],
    );
    const off = render(spec('ossm2', '  networkPolicies: disabled\n'), { tls: TEST_TLS });
    assert.equal(
      off.find((o) => o.kind === 'KnativeServing')!.metadata.annotations?.['serverless.openshift.io/disable-istio-net-policies-generation'],
      'true',
    );
  });
});
