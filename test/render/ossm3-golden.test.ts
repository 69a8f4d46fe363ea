/**
 * Golden tests for `mesh.flavor: ossm3` (and `istio`, which shares the data plane): the resources of the
 * serverless-operator's tested OSSM 3 setup (research serverless-operator.md §4 `hack/lib/mesh_v3_resources/*`,
 * §4.2 KnativeServing patch, §3.1 Eventing/Kafka patches "same for OSSM 2 and 3", §5 OSSM 3 system
 * AuthorizationPolicies, §6.7 OSSM 3 tenant policies) are extracted from the research AT TEST TIME and compared
 * field by field with the render. Every intended difference is a named entry of DIFFERENCES, applied to the
 * expected object before an exact comparison; anything else that differs fails.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseSpec } from '../../src/api/load.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { render } from '../../src/render/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { readShared, TEST_TLS } from '../helpers/shared.ts';

const MD = readShared('research', 'serverless-operator.md');

const parseDocs = (text: string): any[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((v) => v !== null && v !== undefined);

/** The ```yaml block right after the line that names `file` (`` `hack/lib/…/file`: ``), parsed. */
function resourceFile(file: string): any[] {
  const label = `\`${file}\`:`;
  const at = MD.indexOf(`${label}\n`);
  assert.ok(at >= 0, `${file} not found in research/serverless-operator.md`);
  const block = /^```yaml\n([\s\S]*?)^```/m.exec(MD.slice(at + label.length));
  assert.ok(block, `${file}: no yaml block`);
  return parseDocs(block[1] as string);
}

/** The first ```yaml block after a heading (`### 4.2 …`). */
function blockAfterHeading(heading: string, nth = 0): any[] {
  const at = MD.indexOf(heading);
  assert.ok(at >= 0, `${heading} not found`);
  const blocks = [...MD.slice(at).matchAll(/^```yaml\n([\s\S]*?)^```/gm)];
  assert.ok(blocks[nth], `${heading}: no yaml block #${nth}`);
  return parseDocs(blocks[nth][1] as string);
}

const V3 = 'hack/lib/mesh_v3_resources';
const V2_SETUP = 'hack/lib/mesh_resources/authorization-policies/setup';
const V3_SETUP = `${V3}/authorization-policies/setup`;

/** The tested setup's intent as a spec: tenants as in the e2e (one namespace each), Kafka, long-running requests. */
const SPEC = `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: golden}
spec:
  mesh: {flavor: ossm3, longRunningRequests: true}
  domain: apps.example.com
  tls: {secretName: wildcard-certs, generate: true}
  kafka: {bootstrapServers: [my-cluster-kafka-bootstrap.kafka:9092], ports: [9092, 9093, 9094, 9095, 9096]}
  tenants:
    - {name: tenant-1, namespaces: [tenant-1]}
    - {name: tenant-2, namespaces: [tenant-2]}
`;
const mesh: ServerlessMesh = parseSpec('golden.yaml', SPEC);
const objects = render(mesh, { tls: TEST_TLS });

const key = (o: { kind: string; metadata: { name: string; namespace?: string } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
function rendered(kind: string, name: string, namespace?: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === namespace);
  assert.ok(o, `render has no ${kind} ${namespace ?? ''}/${name}`);
  return o;
}

interface Difference {
  /** Which expected objects it rewrites. */
  applies: (doc: any) => boolean;
  why: string;
  apply: (doc: any) => void;
}

/** Every intended difference between the tested setup and our render, with its reason. */
const DIFFERENCES: Difference[] = [
  {
    applies: (d) => d.kind === 'Istio' || d.kind === 'IstioCNI',
    why: 'version: the scripts substitute MESH3_ISTIO_VERSION (default v1.27-latest); we take spec.mesh.version, same default',
    apply: (d) => void (d.spec.version = mesh.spec.mesh.version ?? 'v1.27-latest'),
  },
  {
    applies: (d) => d.kind === 'Istio',
    why: 'no access log: the e2e tests parse the JSON access log (research §7); an installation does not need a log line per request',
    apply: (d) => {
      delete d.spec.values.meshConfig.accessLogFile;
      delete d.spec.values.meshConfig.accessLogFormat;
    },
  },
  {
    applies: (d) => d.kind === 'Namespace' && ['knative-serving', 'knative-eventing'].includes(d.metadata.name),
    why: "injection model (docs/flavours.md): the Knative system namespaces are injection-labelled and the workloads that must stay out opt out (PR 2928, seed 000), instead of per-workload opt-in in an unlabelled namespace; plus the operator's part-of label",
    apply: (d) => void (d.metadata.labels = { 'knative.openshift.io/part-of': 'openshift-serverless', 'istio-injection': 'enabled' }),
  },
  {
    applies: (d) => d.kind === 'Namespace' && d.metadata.name === 'knative-serving-ingress',
    why: "the operator's part-of label on its namespaces (NetworkPolicies select it); not injection-labelled, as in the tested setup (the gateway asks by pod label)",
    apply: (d) => void (d.metadata.labels = { 'knative.openshift.io/part-of': 'openshift-serverless' }),
  },
  {
    applies: (d) => d.kind === 'Namespace' && /^tenant-\d$/.test(d.metadata.name),
    why: 'tenant namespaces carry their tenant (serverlessmesh.dev/tenant), the contract with verify and check',
    apply: (d) => void (d.metadata.labels = { ...d.metadata.labels, 'serverlessmesh.dev/tenant': d.metadata.name }),
  },
  {
    applies: (d) => d.kind === 'RoleBinding',
    why: "the ServiceAccount subject names its namespace explicitly (the tested file relies on the binding's namespace)",
    apply: (d) => void (d.subjects[0].namespace = 'knative-serving-ingress'),
  },
  {
    applies: (d) => d.kind === 'Service',
    why: 'every Service port spells out protocol: TCP (a list-map key; server-side apply before Kubernetes 1.21 rejects an entry without it)',
    apply: (d) => {
      for (const p of d.spec.ports) p.protocol = 'TCP';
      d.spec.type ??= 'ClusterIP';
    },
  },
  {
    applies: (d) => d.kind === 'ServiceEntry',
    why: "port names of the product docs (tcp-plain, tcp-tls, tcp-sasl-tls, …, made unique) instead of the e2e file's; protocol is explicit (TCP), so the name selects nothing; applied to knative-eventing only (the e2e also copies it into its test namespaces)",
    apply: (d) => {
      const names: Record<number, string> = {
        9092: 'tcp-plain',
        9093: 'tcp-tls',
        9094: 'tcp-sasl-tls',
        9095: 'tcp-sasl-plain',
        9096: 'tcp-tls-noauth',
      };
      for (const p of d.spec.ports) p.name = names[p.number];
      d.metadata.namespace = 'knative-eventing';
    },
  },
];

function expectedFor(doc: any): any {
  const d = structuredClone(doc);
  for (const x of DIFFERENCES) if (x.applies(d)) x.apply(d);
  return d;
}

describe('ossm3 render equals the tested OSSM 3 setup (research §4), intended differences listed', () => {
  // 02–08: one object per document; the namespace a script applies an unqualified file into is added.
  const files: Array<[file: string, applyNamespace?: string]> = [
    ['02_istio.yaml'],
    ['03_istiocni.yaml'],
    ['05_gateway_deploy.yaml'],
    ['06_serving_gateways.yaml'],
    ['07_peer_authentication.yaml'],
    ['07b_autoscaler_peer_authentication.yaml'],
    ['08_envoy_filter.yaml'],
    ['kafka-service-entry.yaml', 'knative-eventing'],
  ];
  for (const [file, ns] of files) {
    it(file, () => {
      const docs = resourceFile(`${V3}/${file}`);
      assert.ok(docs.length > 0);
      for (const doc of docs) {
        if (ns && !doc.metadata.namespace) doc.metadata.namespace = ns;
        const want = expectedFor(doc);
        assert.deepEqual(rendered(want.kind, want.metadata.name, want.metadata.namespace), want, key(want));
      }
    });
  }

  it("04_namespace.yaml: the Knative and tenant namespaces (the e2e's test-only namespaces are not an installation's)", () => {
    const docs = resourceFile(`${V3}/04_namespace.yaml`);
    const ours = docs.filter((d) => objects.some((o) => o.kind === 'Namespace' && o.metadata.name === d.metadata.name));
    assert.deepEqual(
      ours.map((d) => d.metadata.name),
      ['knative-serving', 'knative-serving-ingress', 'knative-eventing', 'tenant-1', 'tenant-2'],
    );
    for (const d of ours) assert.deepEqual(rendered('Namespace', d.metadata.name), expectedFor(d), d.metadata.name);
    // The control plane namespaces the script creates with `oc create namespace`.
    assert.deepEqual(rendered('Namespace', 'istio-system'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    assert.deepEqual(rendered('Namespace', 'istio-cni'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-cni' } });
  });

  it('the TLS Secret sits in the gateway namespace (deploy_mesh3_gateways), labelled for secret filtering', () => {
    const s = rendered('Secret', 'wildcard-certs', 'knative-serving-ingress') as any;
    assert.equal(s.type, 'kubernetes.io/tls');
    assert.deepEqual(s.metadata.labels, { 'networking.internal.knative.dev/certificate-uid': 'wildcard-certs' });
  });

  it('§4.2 KnativeServing patch: every field present; additions are the intended ones', () => {
    const [patch] = blockAfterHeading('### 4.2 KnativeServing / KnativeEventing patches for OSSM 3');
    const ks = rendered('KnativeServing', 'knative-serving', 'knative-serving') as any;
    assert.deepEqual(ks.metadata.annotations, patch.metadata.annotations);
    assert.deepEqual(ks.spec.config.istio, patch.spec.config.istio);
    assert.deepEqual(ks.spec.ingress.istio, patch.spec.ingress.istio);
    // Intended: Kourier switched off explicitly (the operator's default ingress), metrics through mTLS.
    assert.deepEqual(ks.spec.ingress.kourier, { enabled: false });
    assert.deepEqual(Object.keys(ks.spec.config).sort(), ['istio', 'observability']);
    assert.equal(ks.spec.deployments, undefined, 'opt-ins in `workloads`, as the tested setup (deployments is the deprecated alias)');
    const byName = new Map<string, any>(ks.spec.workloads.map((w: any) => [w.name, w]));
    for (const w of patch.spec.workloads) assert.deepEqual(byName.get(w.name), w, w.name);
    // Intended additions: opt-outs for what must stay out of an injection-labelled namespace, and the
    // secret-filtering env on net-istio-controller (docs §1.7).
    const extra = ks.spec.workloads.filter((w: any) => !patch.spec.workloads.some((p: any) => p.name === w.name));
    assert.deepEqual(
      extra.map((w: any) => [w.name, w.labels]),
      [
        ['autoscaler-hpa', { 'sidecar.istio.io/inject': 'false' }],
        ['controller', { 'sidecar.istio.io/inject': 'false' }],
        ['net-istio-controller', { 'sidecar.istio.io/inject': 'false' }],
        ['net-istio-webhook', { 'sidecar.istio.io/inject': 'false' }],
        ['webhook', { 'sidecar.istio.io/inject': 'false' }],
      ],
    );
    assert.deepEqual(byName.get('net-istio-controller').env, [
      { container: 'controller', envVars: [{ name: 'ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID', value: 'true' }] },
    ]);
    // "no rewriteAppHTTPProbers annotation — in Istio ≥1.x probe rewriting is on by default"
    assert.ok(!JSON.stringify(ks).includes('rewriteAppHTTPProbers'));
  });

  it('§3.1 KnativeEventing patch ("same for OSSM 2 and 3") + §4.2 annotation: same workloads; features key and delivery-timeout differ by intent', () => {
    const [patch] = blockAfterHeading('### 3.1 KnativeServing / KnativeEventing / KnativeKafka patches', 1);
    const ke = rendered('KnativeEventing', 'knative-eventing', 'knative-eventing') as any;
    assert.deepEqual(ke.metadata.annotations, { 'serverless.openshift.io/disable-istio-net-policies-generation': 'true' });
    const sorted = (ws: any[]) => [...ws].sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(sorted(ke.spec.workloads), sorted(patch.spec.workloads));
    // Intended: `features` (the docs' key; the operator reads `features` before `config-features`, research §9.8);
    // delivery-timeout is an e2e feature flag, not part of the mesh integration.
    assert.deepEqual(patch.spec.config['config-features'], { istio: 'enabled', 'delivery-timeout': 'enabled' });
    assert.deepEqual(ke.spec.config.features, { istio: 'enabled' });
  });

  it('§3.1 KnativeKafka patch: same workloads (Kafka data plane in, webhook out)', () => {
    const [patch] = blockAfterHeading('### 3.1 KnativeServing / KnativeEventing / KnativeKafka patches', 2);
    const kk = rendered('KnativeKafka', 'knative-kafka', 'knative-eventing') as any;
    const sorted = (ws: any[]) => [...ws].sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(sorted(kk.spec.workloads), sorted(patch.spec.workloads));
    assert.equal(kk.metadata.annotations, undefined, 'KnativeKafka does not read the NetworkPolicy annotation (research §2.2)');
  });

  it('§5 OSSM 3 system AuthorizationPolicies: the OSSM 2 set at security.istio.io/v1, the OSSM 3 activator policy, plus allow-traffic-to-ingress-gateway', () => {
    const v2 = [
      'common-deny-all-by-default.yaml',
      'eventing-allow-mt-channel-based-broker-to-channels.yaml',
      'eventing-allow-probe-kafka-controller.yaml',
      'serving-allow-traffic-to-autoscaler.yaml',
    ];
    const expected = [
      // "OSSM 3 set = the same five files with apiVersion: security.istio.io/v1, except …"
      ...v2.flatMap((f) => resourceFile(`${V2_SETUP}/${f}`)).map((d) => ({ ...d, apiVersion: 'security.istio.io/v1' })),
      ...resourceFile(`${V3_SETUP}/serving-allow-traffic-to-activator.yaml`),
      ...resourceFile(`${V3_SETUP}/serving-allow-traffic-to-ingress-gateway.yaml`),
    ];
    assert.equal(expected.length, 2 + 4 + 3 + 1 + 1 + 1);
    const system = objects.filter(
      (o) =>
        o.kind === 'AuthorizationPolicy' &&
        ['knative-serving', 'knative-eventing', 'knative-serving-ingress'].includes(o.metadata.namespace!) &&
        !/^allow-tenant-\d-/.test(o.metadata.name),
    );
    assert.deepEqual(system.map(key).sort(), expected.map(key).sort(), 'the same set of system policies');
    for (const e of expected) assert.deepEqual(rendered('AuthorizationPolicy', e.metadata.name, e.metadata.namespace), e, key(e));
  });

  it('§4.4: no DomainMapping DestinationRule: the local gateway listens in plain HTTP, so ISTIO_MUTUAL towards it would break DomainMapping', () => {
    const [dr] = blockAfterHeading('### 4.4 Alternative OSSM 3 approach');
    assert.equal(dr.kind, 'DestinationRule');
    assert.equal(dr.spec.host, 'knative-local-gateway.knative-serving-ingress.svc.cluster.local');
    assert.equal(objects.filter((o) => o.kind === 'DestinationRule').length, 0);
    // The DR exists to match an ISTIO_MUTUAL local gateway server (PR 2928); ours is HTTP without tls.
    const local = rendered('Gateway', 'knative-local-gateway', 'knative-serving') as any;
    assert.deepEqual(local.spec.servers, [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }]);
  });

  it('nothing else is rendered: every object is covered by a case above or is a tenant policy', () => {
    const covered = new Set([
      ...files.flatMap(([f, ns]) =>
        resourceFile(`${V3}/${f}`).map((d) => key({ ...d, metadata: { ...d.metadata, namespace: d.metadata.namespace ?? ns } })),
      ),
      ...['knative-serving', 'knative-serving-ingress', 'knative-eventing', 'tenant-1', 'tenant-2', 'istio-system', 'istio-cni'].map(
        (n) => `Namespace//${n}`,
      ),
      'Secret/knative-serving-ingress/wildcard-certs',
      'KnativeServing/knative-serving/knative-serving',
      'KnativeEventing/knative-eventing/knative-eventing',
      'KnativeKafka/knative-eventing/knative-kafka',
    ]);
    const rest = objects.filter((o) => !covered.has(key(o)) && o.kind !== 'AuthorizationPolicy');
    assert.deepEqual(rest.map(key), [], 'no NetworkPolicy by default (seed 000), no DestinationRule, nothing unexplained');
  });
});

describe('§6.7 OSSM 3 tenant policies: the chart render (§6.6) with exactly the three documented changes', () => {
  const tenants = parseSpec(
    't.yaml',
    SPEC.replace(/ {2}tenants:[\s\S]*$/, '  tenants:\n    - {name: team-alpha, namespaces: [team-alpha-1, team-alpha-2]}\n'),
  );
  const ours = render(tenants, { tls: TEST_TLS }).filter(
    (o) =>
      o.kind === 'AuthorizationPolicy' &&
      (o.metadata.name.startsWith('allow-team-alpha-') || o.metadata.namespace!.startsWith('team-alpha-')),
  );

  it('13 policies, same order, field for field', () => {
    const chart = blockAfterHeading('### 6.6 Rendered example');
    assert.equal(chart.length, 13);
    const expected = chart.map((d) => {
      // (1) apiVersion security.istio.io/v1beta1 → v1; (2) "istio-system" removed from rule (a) of
      // allow-from-knative-and-istio; (3) a comment line only (not part of the object).
      const e = { ...structuredClone(d), apiVersion: 'security.istio.io/v1' };
      if (e.metadata.name === 'allow-from-knative-and-istio') {
        const a = e.spec.rules[0].from[0].source;
        a.namespaces = a.namespaces.filter((n: string) => n !== 'istio-system');
      }
      return e;
    });
    assert.deepEqual(ours, expected);
  });

  it('the §6.7 rendered rule (a) for team-alpha-1 verbatim', () => {
    const [doc] = blockAfterHeading('### 6.7 OSSM 3 variant of the per-tenant policies');
    assert.deepEqual(
      ours.find((o) => o.metadata.namespace === 'team-alpha-1' && o.metadata.name === 'allow-from-knative-and-istio'),
      doc,
    );
  });
});

describe('istio flavour: the same data plane as ossm3, without sail-operator objects', () => {
  const istio = render(parseSpec('i.yaml', SPEC.replace('flavor: ossm3', 'flavor: istio')), { tls: TEST_TLS });
  it("equals the ossm3 render minus Istio, IstioCNI and the control-plane namespaces (istio-system is the user's, like istiod)", () => {
    const sail = new Set(['Istio', 'IstioCNI']);
    const withoutSail = objects.filter(
      (o) => !sail.has(o.kind) && !(o.kind === 'Namespace' && ['istio-cni', 'istio-system'].includes(o.metadata.name)),
    );
    assert.deepEqual(istio, withoutSail);
  });
});
