/**
 * Every rendered custom resource validates against the real CRD schema in ../shared/crds (unknown
 * fields rejected, `x-kubernetes-validations` CEL rules evaluated), in the CRD variant the flavour's
 * operators serve. Every example, plus spec variants that reach the objects the examples leave out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from '../../src/render/index.ts';
import { CrdSchemas } from '../../src/crd/schema-validation.ts';
import { parseSpec } from '../../src/api/load.ts';
import type { MeshFlavor, ServerlessMesh } from '../../src/api/types.ts';
import { gvk, objectRef, type KubeObject } from '../../src/util/kube.ts';
import { example, EXAMPLES, sharedFile, TEST_TLS } from '../helpers/shared.ts';

const serverless = [
  sharedFile('crds', 'operator.knative.dev', 'openshift-serverless-1.37'),
  sharedFile('crds', 'operator.serverless.openshift.io'),
  sharedFile('crds', 'serving.knative.dev'),
];
/** Upstream Istio 1.30 (what sail-operator 1.30 installs and what upstream Istio serves). */
const upstreamIstio = [sharedFile('crds', 'networking.istio.io'), sharedFile('crds', 'security.istio.io')];

/** What each flavour's cluster serves. */
const CRDS: Record<MeshFlavor, CrdSchemas> = {
  // OSSM 2.x + OpenShift Serverless 1.37.
  ossm2: CrdSchemas.fromDirs([
    sharedFile('crds', 'maistra.io'),
    sharedFile('crds', 'networking.istio.io', 'maistra-2.5'),
    sharedFile('crds', 'security.istio.io', 'maistra-2.5'),
    ...serverless,
  ]),
  // OSSM 3.x (sail-operator 1.30) + OpenShift Serverless 1.37.
  ossm3: CrdSchemas.fromDirs([sharedFile('crds', 'sailoperator.io'), ...upstreamIstio, ...serverless]),
  // Upstream Istio; the Knative operator as OpenShift Serverless ships it (upstream's is checked below too).
  istio: CrdSchemas.fromDirs([...upstreamIstio, ...serverless]),
};
/** The upstream Knative operator CRDs are fully typed (the product's preserve unknown fields): check both. */
const upstreamKnative = CrdSchemas.fromDirs([sharedFile('crds', 'operator.knative.dev')]);

const CORE = new Set([
  '/v1/Namespace',
  '/v1/Service',
  '/v1/Secret',
  'apps/v1/Deployment',
  'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding',
  'networking.k8s.io/v1/NetworkPolicy',
]);
/**
 * Kinds with no CRD in ../shared/crds: EnvoyFilter (the shared Istio set leaves it out on purpose,
 * crds/README.md). Checked by hand against Istio's EnvoyFilter reference in test/render/ossm3-golden.test.ts.
 */
const NO_SHARED_CRD = new Set(['networking.istio.io/v1alpha3/EnvoyFilter']);

/** Validates every custom resource; returns how many CEL rules were evaluated. */
function validateAll(mesh: ServerlessMesh, what: string): { checked: number; celEvaluated: number } {
  const crds = CRDS[mesh.spec.mesh.flavor];
  let checked = 0;
  let celEvaluated = 0;
  for (const obj of render(mesh, { tls: TEST_TLS })) {
    if (CORE.has(gvk(obj)) || NO_SHARED_CRD.has(gvk(obj))) continue;
    const report = crds.validateWithReport(obj);
    assert.ok(report, `${what}: ${objectRef(obj)}: no CRD for ${gvk(obj)} in the ${mesh.spec.mesh.flavor} set`);
    assert.deepEqual(report.violations, [], `${what}: ${objectRef(obj)}`);
    celEvaluated += report.cel.passed;
    const upstream = upstreamKnative.validate(obj);
    if (upstream) assert.deepEqual(upstream, [], `${what}: ${objectRef(obj)} (upstream Knative operator CRD)`);
    checked++;
  }
  return { checked, celEvaluated };
}

const variant = (flavor: MeshFlavor, extra: string): ServerlessMesh =>
  parseSpec(
    'variant.yaml',
    `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: v}
spec:
  mesh: {flavor: ${flavor}}
  domain: apps.example.com
  tls: {generate: true}
  kafka: {bootstrapServers: [my-cluster-kafka-bootstrap.kafka:9092, other.kafka:9093]}
  members: [plain]
  tenants:
    - {name: a, namespaces: [a-1, a-2]}
    - {name: b, namespaces: [b-1]}
${extra}`,
  );

describe('rendered custom resources validate against the real CRDs', () => {
  for (const name of EXAMPLES) {
    it(name, () => {
      const { checked } = validateAll(example(name), name);
      assert.ok(checked > 0);
    });
  }

  for (const flavor of ['ossm2', 'ossm3', 'istio'] as const) {
    it(`${flavor}: Kafka, members, tenants, NetworkPolicies generated`, () => {
      const { checked } = validateAll(variant(flavor, '  networkPolicies: generate\n'), flavor);
      assert.ok(checked > 10);
    });
  }

  it('ossm3: a named revision, a version, long-running requests: sail-operator CEL rules evaluated and hold', () => {
    const mesh = variant('ossm3', '');
    mesh.spec.mesh.controlPlane = 'prod';
    mesh.spec.mesh.version = 'v1.27.3';
    mesh.spec.mesh.longRunningRequests = true;
    const { celEvaluated } = validateAll(mesh, 'ossm3 variant');
    // The Istio CR alone carries dozens of rules along the paths it sets (values.global, meshConfig, updateStrategy).
    assert.ok(celEvaluated > 0, 'no CEL rule was evaluated');
  });

  it('the sail-operator CEL rules catch what the 1.20 apiserver cannot: a violated rule is reported with its message', () => {
    const istio = render(example('ossm3-tenants'), { tls: TEST_TLS }).find((o) => o.kind === 'Istio') as KubeObject & { spec: any };
    const bad = structuredClone(istio);
    // x-kubernetes-validations on Istio.spec (sail-operator 1.30): the two namespaces must agree.
    bad.spec.values.global.istioNamespace = 'elsewhere';
    // and on meshConfig.defaultConfig: "At most one of [serviceCluster tracingServiceName]".
    bad.spec.values.meshConfig.defaultConfig.serviceCluster = 'a';
    bad.spec.values.meshConfig.defaultConfig.tracingServiceName = 'APP_LABEL_AND_NAMESPACE';
    const messages = CRDS.ossm3.validate(bad)!.map((v) => `${v.pointer}: ${v.message}`);
    assert.ok(
      messages.some((m) => m.includes('spec.values.global.istioNamespace must match spec.namespace')),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.includes('At most one of [serviceCluster tracingServiceName]')),
      messages.join('\n'),
    );
    // Our render sets neither, and passes.
    assert.deepEqual(CRDS.ossm3.validate(istio), []);
  });

  it('the validator catches what the apiserver would reject', () => {
    const [gw] = render(example('ossm2-basic'), { tls: TEST_TLS }).filter((o) => o.kind === 'Gateway');
    const bad = structuredClone(gw!) as any;
    bad.spec.servers[0].hots = ['*'];
    bad.spec.servers[0].tls.mode = 'STRICT';
    const messages = CRDS.ossm2.validate(bad)!.map((v) => `${v.pointer}: ${v.message}`);
    assert.ok(
      messages.some((m) => m.includes('/spec/servers/0') && m.includes('"hots"')),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.includes('/spec/servers/0/tls/mode')),
      messages.join('\n'),
    );
  });

  it('OSSM 2.x does not serve networking.istio.io/v1: the render must not use it', () => {
    const v = CRDS.ossm2.validate({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway' });
    assert.deepEqual(v, [{ pointer: '/apiVersion', message: 'networking.istio.io/v1 Gateway is not served; served: v1alpha3, v1beta1' }]);
  });
});
