// Knative paths on the policies the product renders (render(spec) filtered to security objects):
// serverless-operator's e2e matrix (research serverless-operator.md §7.1), the docs' §2.4 matrix,
// V28–V30 as whole paths, and a policy set that blocks the activator's probes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerIn, modelFromObjects, pathHops, type KnativeModel, type Via } from '../../src/authz/knative.ts';
import { Verifier, verifyModel, variantsOf } from '../../src/authz/verify.ts';
import { render } from '../../src/render/index.ts';
import { parseSpec } from '../../src/spec/load.ts';
import type { KubeObject } from '../../src/util/kube.ts';

const SECURITY = new Set(['AuthorizationPolicy', 'PeerAuthentication', 'ServiceMeshControlPlane', 'Namespace']);

function renderedModel(tenants: Array<{ name: string; namespaces: string[] }>, extra: KubeObject[] = []): KnativeModel {
  const text = `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: t}
spec:
  mesh: {flavor: ossm2}
  domain: apps.example.com
  tls: {secretName: wildcard-certs, generate: false}
  tenants:
${tenants.map((t) => `    - name: ${t.name}\n      namespaces: [${t.namespaces.join(', ')}]`).join('\n')}
`;
  const mesh = parseSpec('spec.yaml', text);
  const objects = render(mesh).filter((o) => SECURITY.has(o.kind));
  assert.ok(objects.some((o) => o.kind === 'AuthorizationPolicy'), 'render produced AuthorizationPolicies');
  return modelFromObjects([...objects, ...extra], { flavor: 'ossm2', tenants: mesh.spec.tenants, domain: 'apps.example.com' });
}

/** Outcome of one path variant: allowed, hop label of the deciding hop, deciding policy. */
function run(m: KnativeModel, from: string, to: string, via: Via, variant: 'serve' | 'proxy') {
  const k = m.ksvcs.find((x) => x.namespace === to)!;
  const v = new Verifier(m);
  const hops = pathHops(m, callerIn(from), k, via, variant);
  const r = v.evalHops(hops);
  const last = r.results[r.at]!;
  return { allowed: r.allowed, hop: last.hop, policy: last.policy, decision: last.decision, reason: last.reason };
}

// serverless-operator test/servinge2e/servicemesh/multitenant_test.go, tenant-1 / tenant-2 rendered
// one namespace each. TARGET_HOST `<rev>-private` = direct pod; target-burst-capacity -1 = activator
// in path; "via-ingress" = GATEWAY_HOST local gateway from an injected proxy (its sidecar routes by Host).
const e2e: Array<[name: string, to: string, via: Via, variant: 'serve' | 'proxy', allowed: boolean, hop: RegExp, policy: string | null]> = [
  ['same-tenant-directly', 'tenant-1', 'direct', 'serve', true, /tenant-1\/client → tenant-1\/ksvc-00001/, 'tenant-1/allow-from-knative-and-istio'],
  ['cross-tenant-directly', 'tenant-2', 'direct', 'serve', false, /tenant-1\/client → tenant-2\/ksvc-00001/, null],
  ['same-tenant-via-activator', 'tenant-1', 'activator', 'proxy', true, /activator → tenant-1\/ksvc-00001/, 'tenant-1/allow-from-knative-and-istio'],
  ['cross-tenant-via-activator', 'tenant-2', 'activator', 'proxy', false, /tenant-1\/client → knative-serving\/activator/, null],
  ['same-tenant-via-ingress-via-activator', 'tenant-1', 'local-gateway', 'proxy', true, /activator → tenant-1\/ksvc-00001/, 'tenant-1/allow-from-knative-and-istio'],
  ['cross-tenant-via-ingress-via-activator', 'tenant-2', 'local-gateway', 'proxy', false, /tenant-1\/client → knative-serving\/activator/, null],
  ['same-tenant-via-ingress-no-activator', 'tenant-1', 'local-gateway', 'serve', true, /tenant-1\/client → tenant-1\/ksvc-00001/, 'tenant-1/allow-from-knative-and-istio'],
  ['cross-tenant-via-ingress-no-activator', 'tenant-2', 'local-gateway', 'serve', false, /tenant-1\/client → tenant-2\/ksvc-00001/, null],
];

const e2eModel = renderedModel([
  { name: 'tenant-1', namespaces: ['tenant-1'] },
  { name: 'tenant-2', namespaces: ['tenant-2'] },
]);

for (const [name, to, via, variant, allowed, hop, policy] of e2e) {
  test(`e2e ${name}: ${allowed ? '200' : '403'}`, () => {
    const r = run(e2eModel, 'tenant-1', to, via, variant);
    assert.equal(r.allowed, allowed, r.reason);
    assert.match(r.hop, hop);
    assert.equal(r.policy, policy);
    if (!allowed) assert.match(r.reason, /RBAC: access denied/); // 403, not a TLS failure
  });
}

test('e2e: a cross-tenant activator denial comes from the Host-scoped activator policies', () => {
  const r = run(e2eModel, 'tenant-1', 'tenant-2', 'activator', 'proxy');
  assert.match(r.reason, /knative-serving\/allow-tenant-1-to-activator/);
  assert.match(r.reason, /knative-serving\/allow-tenant-2-to-activator/);
});

// Docs §2.4 (team-alpha / team-bravo, rendered): curl pod in team-alpha-1.
const docs = renderedModel([
  { name: 'team-alpha', namespaces: ['team-alpha-1', 'team-alpha-2'] },
  { name: 'team-bravo', namespaces: ['team-bravo-1', 'team-bravo-2'] },
]);
const docsCases: Array<[string, string, Via, boolean, string | null, RegExp]> = [
  ['alpha→alpha local (http://test-webapp.team-alpha-1)', 'team-alpha-1', 'local-gateway', true, 'team-alpha-1/allow-from-knative-and-istio', /./],
  ['alpha→alpha external', 'team-alpha-1', 'external', true, 'team-alpha-1/allow-from-knative-and-istio', /./],
  ['alpha→bravo local: 403 RBAC: access denied', 'team-bravo-1', 'local-gateway', false, null, /^RBAC: access denied/],
  ['alpha→bravo external', 'team-bravo-1', 'external', true, 'team-bravo-1/allow-from-knative-and-istio', /./],
];
for (const [name, to, via, allowed, policy, reason] of docsCases) {
  test(`docs §2.4 ${name}`, () => {
    for (const variant of variantsOf(via)) {
      const r = run(docs, 'team-alpha-1', to, via, variant);
      assert.equal(r.allowed, allowed, `${variant}: ${r.reason}`);
      assert.equal(r.policy, policy, variant);
      assert.match(r.reason, reason);
    }
  });
}

test('docs §2.4 verify: no leak, no blocked edge, external is allowed across tenants', () => {
  const rep = verifyModel(docs);
  assert.deepEqual(rep.surprises, []);
  assert.equal(rep.violations, 0);
  assert.equal(rep.paths.length, 4 * 4 * 5);
  const ext = rep.paths.filter((p) => p.via === 'external');
  assert.ok(ext.every((p) => p.allowed));
  assert.equal(rep.paths.filter((p) => p.via === 'direct' && p.allowed).length, 8);
  // OSSM 2 local gateway is ISTIO_MUTUAL: a caller without sidecar cannot use it.
  assert.ok(rep.paths.filter((p) => p.via === 'no-sidecar').every((p) => !p.allowed && /ISTIO_MUTUAL/.test(p.reason)));
});

// V28–V30 as whole Knative paths (user policy in namespace `app`, OSSM 2 mesh, no chart policies).
const AP = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'app' }, spec });
const SMCP: KubeObject = { apiVersion: 'maistra.io/v2', kind: 'ServiceMeshControlPlane', metadata: { name: 'basic', namespace: 'istio-system' }, spec: { security: { dataPlane: { mtls: true } }, proxy: { networking: { trafficControl: { inbound: { excludedPorts: [8444, 8022] } } } } } };
const KSVC: KubeObject = { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'k', namespace: 'app' }, spec: { template: { metadata: { labels: { 'sidecar.istio.io/inject': 'true' } } } } };
const appModel = (policy: KubeObject) => modelFromObjects([SMCP, KSVC, policy]);

test('V28 path-level: direct allowed, activator and gateway denied at the pod', () => {
  const m = appModel(AP('allow-ns', { rules: [{ from: [{ source: { namespaces: ['app'] } }] }] }));
  const direct = run(m, 'app', 'app', 'direct', 'serve');
  assert.deepEqual([direct.allowed, direct.policy], [true, 'app/allow-ns']);
  const act = run(m, 'app', 'app', 'activator', 'proxy');
  assert.deepEqual([act.allowed, act.policy], [false, null]);
  assert.match(act.hop, /knative-serving\/activator → app\/k-00001/);
  const gw = run(m, 'app', 'app', 'external', 'serve');
  assert.deepEqual([gw.allowed, gw.policy], [false, null]);
  assert.match(gw.hop, /istio-system\/istio-ingressgateway → app\/k-00001/);
});

test('V29 path-level: adding knative-serving fixes the activator path, not Serve mode through the gateway', () => {
  const m = appModel(AP('allow-ns', { rules: [{ from: [{ source: { namespaces: ['app', 'knative-serving'] } }] }] }));
  assert.equal(run(m, 'app', 'app', 'activator', 'proxy').policy, 'app/allow-ns');
  assert.equal(run(m, 'app', 'app', 'external', 'serve').allowed, false);
  const viaAct = run(m, 'app', 'app', 'external', 'proxy');
  assert.deepEqual([viaAct.allowed, viaAct.policy], [true, 'app/allow-ns']);
});

test('V30 / a policy set that blocks the activator probes and metrics is reported', () => {
  const m = appModel(AP('root-only', { rules: [{ to: [{ operation: { paths: ['/'] } }] }] }));
  const rep = verifyModel(m);
  const byId = (id: string) => rep.requiredEdges.find((e) => e.edge === id && e.target === 'app/k')!;
  assert.equal(byId('activator-probe').allowed, false);
  assert.match(byId('activator-probe').impact, /never become Ready/);
  assert.equal(byId('autoscaler-metrics').allowed, false);
  assert.match(byId('autoscaler-metrics').impact, /never scale/);
  // 8022 is excluded from capture by the SMCP, so the PreStop hook still works.
  assert.equal(byId('prestop-drain').allowed, true);
  assert.ok(rep.surprises.some((s) => s.startsWith('BLOCKED activator probes app/k')));
  assert.ok(rep.violations > 0);
  const user = run(m, 'app', 'app', 'direct', 'serve');
  assert.deepEqual([user.allowed, user.policy], [true, 'app/root-only']);
});

test('the Knative docs fix for V30 (paths /metrics and /healthz) unblocks the edges', () => {
  const m = appModel(AP('fixed', { rules: [{ to: [{ operation: { paths: ['/', '/metrics', '/healthz'] } }] }] }));
  const rep = verifyModel(m);
  for (const id of ['activator-probe', 'autoscaler-metrics']) {
    const e = rep.requiredEdges.find((x) => x.edge === id)!;
    assert.equal(e.allowed, true, e.reason);
    assert.equal(e.policy, 'app/fixed');
  }
});

test('a leak through the activator is detected: activator policy without the Host scope', () => {
  const leaky: KubeObject = {
    apiVersion: 'security.istio.io/v1beta1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'allow-any-tenant-to-activator', namespace: 'knative-serving' },
    spec: { selector: { matchLabels: { app: 'activator' } }, rules: [{ from: [{ source: { namespaces: ['tenant-1', 'tenant-2'] } }] }] },
  };
  const m = renderedModel([{ name: 'tenant-1', namespaces: ['tenant-1'] }, { name: 'tenant-2', namespaces: ['tenant-2'] }], [leaky]);
  const rep = verifyModel(m);
  const leak = rep.paths.find((p) => p.from === 'tenant-1' && p.to === 'tenant-2/ksvc' && p.via === 'activator')!;
  assert.equal(leak.allowed, true);
  assert.equal(leak.policy, 'tenant-2/allow-from-knative-and-istio');
  assert.ok(rep.surprises.some((s) => s.startsWith('LEAK tenant-1 → tenant-2/ksvc via activator')));
  assert.ok(rep.violations > 0);
  // the direct path stays isolated
  assert.equal(rep.paths.find((p) => p.from === 'tenant-1' && p.to === 'tenant-2/ksvc' && p.via === 'direct')!.allowed, false);
});

test('equivalence classes give the same rows as pair-by-pair evaluation', () => {
  const m = renderedModel([
    { name: 'a', namespaces: ['a-1', 'a-2'] },
    { name: 'b', namespaces: ['b-1'] },
    { name: 'c', namespaces: ['c-1', 'c-2', 'c-3'] },
  ]);
  const rep = verifyModel(m);
  const v = new Verifier(m);
  for (const row of rep.paths) {
    const k = m.ksvcs.find((x) => `${x.namespace}/${x.name}` === row.to)!;
    const outs = variantsOf(row.via).map((variant) => v.outcome(pathHops(m, callerIn(row.from), k, row.via, variant), variant));
    const same = m.tenantOf.get(row.from) === m.tenantOf.get(k.namespace);
    const expectAllowed = row.via === 'external' ? true : row.via === 'no-sidecar' ? false : same;
    assert.equal(row.allowed, expectAllowed, `${row.from} → ${row.to} via ${row.via}`);
    assert.ok(outs.some((o) => o.allowed === row.allowed));
  }
});
