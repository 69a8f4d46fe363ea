/**
 * NetworkPolicies in knative-serving come from three owners: our render, the Serverless operator
 * (research §2.2: webhook, net-istio-webhook, allow-from-openshift-monitoring-ns whenever Istio ingress is
 * on and generation is not disabled) and, on OSSM 2, Maistra (`manageNetworkPolicy`, default true: an
 * `istio-mesh` policy admitting mesh members in every member namespace). A reasoned table: for each
 * configuration, the union of what the owners create must admit every path knative-serving needs, and we
 * must never own a policy of a name the operator generates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { render } from '../../src/render/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';

interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
}
interface NetPol {
  name: string;
  owner: 'render' | 'operator' | 'maistra';
  podSelector: { matchLabels?: Record<string, string> };
  ingress: Array<{ from?: Peer[] }>;
}

/** A caller: its namespace's labels (undefined for host-network callers such as the kube-apiserver) and pod labels. */
interface Source {
  what: string;
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
}

const subset = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
  Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);

/** Kubernetes NetworkPolicy semantics (ingress): isolated once selected by any policy; then allowed if any selecting policy admits. */
function admitted(policies: NetPol[], dest: Record<string, string>, src: Source): boolean {
  const selecting = policies.filter((p) => subset(p.podSelector.matchLabels, dest));
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    p.ingress.some(
      (rule) =>
        rule.from === undefined ||
        rule.from.some((peer) => {
          // A host-network caller is in no namespace: only a rule without `from` admits it.
          if (!src.namespaceLabels) return false;
          const nsOk = peer.namespaceSelector
            ? subset(peer.namespaceSelector.matchLabels, src.namespaceLabels)
            : subset({ 'kubernetes.io/metadata.name': 'knative-serving' }, src.namespaceLabels);
          const podOk = peer.podSelector ? subset(peer.podSelector.matchLabels, src.podLabels) : true;
          return nsOk && podOk;
        }),
    ),
  );
}

function ownerPolicies(mesh: ServerlessMesh): NetPol[] {
  const objects = render(mesh, { tls: TEST_TLS });
  const out: NetPol[] = objects
    .filter((o): o is KubeObject & { spec: any } => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'knative-serving')
    .map((o) => ({ name: o.metadata.name, owner: 'render', podSelector: o.spec.podSelector, ingress: o.spec.ingress }));
  const ks = objects.find((o) => o.kind === 'KnativeServing') as any;
  const smcp = objects.find((o) => o.kind === 'ServiceMeshControlPlane') as any;
  const smmr = objects.find((o) => o.kind === 'ServiceMeshMemberRoll') as any;
  // The operator (generateDefaultIstioNetworkPoliciesIfRequired): Istio ingress and no "true" annotation.
  const disabled = ks?.metadata.annotations?.['serverless.openshift.io/disable-istio-net-policies-generation'] === 'true';
  if (ks?.spec.ingress?.istio?.enabled && !disabled) {
    out.push(
      { name: 'webhook', owner: 'operator', podSelector: { matchLabels: { app: 'webhook' } }, ingress: [{}] },
      { name: 'net-istio-webhook', owner: 'operator', podSelector: { matchLabels: { app: 'net-istio-webhook' } }, ingress: [{}] },
      {
        name: 'allow-from-openshift-monitoring-ns',
        owner: 'operator',
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openshift-monitoring' } } }] }],
      },
    );
  }
  // Maistra: member namespaces get `istio-mesh`, admitting namespaces labelled as members of this mesh.
  // A control plane we do not render is the user's: the docs pair generation-disabled with manageNetworkPolicy false.
  const manages = smcp ? smcp.spec.security?.manageNetworkPolicy !== false : !disabled;
  if (manages && (smmr?.spec.members ?? []).includes('knative-serving')) {
    out.push({
      name: 'istio-mesh',
      owner: 'maistra',
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'maistra.io/member-of': mesh.spec.mesh.namespace } } }] }],
    });
  }
  return out;
}

const member = (ns: string, cp = 'istio-system') => ({ 'kubernetes.io/metadata.name': ns, 'maistra.io/member-of': cp });
const MONITORING: Source = {
  what: 'Prometheus (openshift-monitoring)',
  namespaceLabels: { 'kubernetes.io/metadata.name': 'openshift-monitoring' },
};
const APISERVER: Source = { what: 'kube-apiserver (host network)' };

/** Paths into knative-serving the configuration needs: [source, destination pod labels]. */
function requiredPaths(mesh: ServerlessMesh): Array<[Source, Record<string, string>]> {
  const kourier = mesh.spec.ingress === 'kourier';
  const serving = (labels: Record<string, string>) => ({ 'kubernetes.io/metadata.name': 'knative-serving', ...labels });
  const paths: Array<[Source, Record<string, string>]> = [
    [APISERVER, { app: 'webhook' }],
    [
      { what: 'activator', namespaceLabels: kourier ? serving({}) : member('knative-serving'), podLabels: { app: 'activator' } },
      { app: 'autoscaler' },
    ],
    kourier
      ? [
          {
            what: 'Kourier gateway',
            namespaceLabels: {
              'kubernetes.io/metadata.name': 'knative-serving-ingress',
              'knative.openshift.io/part-of': 'openshift-serverless',
            },
          },
          { app: 'activator' },
        ]
      : [{ what: 'ingress gateway', namespaceLabels: member('istio-system') }, { app: 'activator' }],
  ];
  if (!kourier) paths.push([APISERVER, { app: 'net-istio-webhook' }]);
  if (mesh.spec.metrics.enabled) {
    paths.push([MONITORING, { app: 'activator' }], [MONITORING, { app: 'autoscaler' }]);
    if (mesh.spec.metrics.monitoringNamespace !== 'openshift-monitoring') {
      paths.push([
        { what: 'user monitoring', namespaceLabels: { 'kubernetes.io/metadata.name': mesh.spec.metrics.monitoringNamespace } },
        { app: 'activator' },
      ]);
    }
  }
  return paths;
}

describe('knative-serving NetworkPolicies: every owner together admits every required path (reasoned table)', () => {
  const cases: Array<[string, (m: ServerlessMesh) => void]> = [
    ['istio ingress, operator generates (default)', () => {}],
    ['istio ingress, generation disabled (SMCP manageNetworkPolicy false)', (m) => (m.spec.networkPolicies = 'disabled')],
    ['istio ingress, metrics off', (m) => (m.spec.metrics.enabled = false)],
    ['istio ingress, extra monitoring namespace', (m) => (m.spec.metrics.monitoringNamespace = 'user-monitoring')],
    ['istio ingress, the user owns the control plane', (m) => (m.spec.mesh.manageControlPlane = false)],
    [
      'istio ingress, user control plane, generation disabled',
      (m) => {
        m.spec.mesh.manageControlPlane = false;
        m.spec.networkPolicies = 'disabled';
      },
    ],
    [
      'Kourier kept (knative-serving outside the mesh)',
      (m) => {
        m.spec.ingress = 'kourier';
        m.spec.tenants = [];
        m.spec.mesh.manageControlPlane = false;
      },
    ],
    [
      'Kourier kept, generation disabled',
      (m) => {
        m.spec.ingress = 'kourier';
        m.spec.tenants = [];
        m.spec.mesh.manageControlPlane = false;
        m.spec.networkPolicies = 'disabled';
      },
    ],
  ];
  for (const [name, change] of cases) {
    it(name, () => {
      const mesh = example('ossm2-tenants');
      change(mesh);
      const policies = ownerPolicies(mesh);
      for (const [src, dest] of requiredPaths(mesh)) {
        assert.ok(
          admitted(policies, dest, src),
          `${src.what} → ${JSON.stringify(dest)} is cut by ${policies.map((p) => `${p.owner}:${p.name}`).join(', ')}`,
        );
      }
      const operatorNames = new Set(policies.filter((p) => p.owner !== 'render').map((p) => p.name));
      for (const p of policies.filter((x) => x.owner === 'render'))
        assert.ok(!operatorNames.has(p.name), `render owns ${p.name}, which another owner also creates`);
    });
  }

  it("the docs' own monitoring policy would be a catch-all where nothing else selects the pods", () => {
    // The evaluator is not vacuous: the seed's §1.5 policy alone cuts the activator off the Kourier gateway.
    const docsPolicy: NetPol = {
      name: 'allow-from-openshift-monitoring-ns',
      owner: 'render',
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openshift-monitoring' } } }] }],
    };
    const kourierGw: Source = { what: 'Kourier', namespaceLabels: { 'kubernetes.io/metadata.name': 'knative-serving-ingress' } };
    assert.equal(admitted([docsPolicy], { app: 'activator' }, kourierGw), false);
    assert.equal(admitted([docsPolicy], { app: 'webhook' }, APISERVER), false);
    assert.equal(admitted([docsPolicy], { app: 'activator' }, MONITORING), true);
  });

  it('generation disabled also turns off the SMCP-managed NetworkPolicies (the pairing the docs require)', () => {
    const mesh = example('ossm2-tenants');
    mesh.spec.networkPolicies = 'disabled';
    const smcp = render(mesh, { tls: TEST_TLS }).find((o) => o.kind === 'ServiceMeshControlPlane') as any;
    assert.equal(smcp.spec.security.manageNetworkPolicy, false);
    const dflt = render(example('ossm2-tenants'), { tls: TEST_TLS }).find((o) => o.kind === 'ServiceMeshControlPlane') as any;
    assert.equal(dflt.spec.security.manageNetworkPolicy, undefined, 'default: the operator default (true) is left alone');
  });
});

describe('Kourier kept: the mesh is the user’s prerequisite (docs §1.6)', () => {
  it('renders the member roll and NetworkPolicies but no control plane that could turn mTLS off', () => {
    const objects = render(example('kourier'));
    assert.equal(objects.filter((o) => o.kind === 'ServiceMeshControlPlane').length, 0);
    assert.ok(objects.some((o) => o.kind === 'ServiceMeshMemberRoll'));
    assert.ok(objects.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-from-serving-system-namespace'));
  });

  it('renders the control plane only when the spec asks to manage it', () => {
    const mesh = example('kourier');
    mesh.spec.mesh.manageControlPlane = true;
    const smcp = render(mesh).find((o) => o.kind === 'ServiceMeshControlPlane') as any;
    assert.equal(smcp.spec.security.dataPlane.mtls, false);
  });
});
