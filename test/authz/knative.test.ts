// Knative paths on the policies the product renders (render(spec) filtered to security objects):
// serverless-operator's e2e matrix (research serverless-operator.md §7.1), the docs' §2.4 matrix,
// V28–V30 as whole paths, and a policy set that blocks the activator's probes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerIn, modelFromObjects, pathHops, type Flavor, type KnativeModel, type Via } from '../../src/authz/knative.ts';
import { profileFor } from '../../src/flavors/index.ts';
import { checkRequest } from '../../src/authz/evaluate.ts';
import { hopRequest, toRow, Verifier, verifyModel, variantsOf, type PathOutcome } from '../../src/authz/verify.ts';
import { render } from '../../src/render/index.ts';
import { parseSpec } from '../../src/api/load.ts';
import type { KubeObject } from '../../src/util/kube.ts';

// Objects the data-path model reads: policies, mesh-wide mTLS, the control planes (inbound exclusions), tenant labels.
const SECURITY = new Set(['AuthorizationPolicy', 'PeerAuthentication', 'ServiceMeshControlPlane', 'Istio', 'Namespace']);
const FLAVORS: readonly Flavor[] = ['ossm2', 'ossm3', 'istio'];

function renderedModel(
  tenants: Array<{ name: string; namespaces: string[] }>,
  extra: KubeObject[] = [],
  flavor: Flavor = 'ossm2',
): KnativeModel {
  const text = `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: t}
spec:
  mesh: {flavor: ${flavor}}
  domain: apps.example.com
  tls: {secretName: wildcard-certs, generate: false}
  tenants:
${tenants.map((t) => `    - name: ${t.name}\n      namespaces: [${t.namespaces.join(', ')}]`).join('\n')}
`;
  const mesh = parseSpec('spec.yaml', text);
  const objects = render(mesh).filter((o) => SECURITY.has(o.kind));
  assert.ok(
    objects.some((o) => o.kind === 'AuthorizationPolicy'),
    'render produced AuthorizationPolicies',
  );
  // As `verify -f` builds it (src/cli/authz-commands.ts): upstream Istio's control plane is the user's,
  // installed with the exclusions docs/flavours.md requires.
  return modelFromObjects([...objects, ...extra], {
    flavor,
    tenants: mesh.spec.tenants,
    domain: 'apps.example.com',
    excludedPorts: profileFor(flavor).excludedInboundPorts,
  });
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
// The same eight cases hold on every flavour (the OSSM 3 e2e runs this very test, research §7.1).
const e2e: Array<[name: string, to: string, via: Via, variant: 'serve' | 'proxy', allowed: boolean, hop: RegExp, policy: string | null]> = [
  [
    'same-tenant-directly',
    'tenant-1',
    'direct',
    'serve',
    true,
    /tenant-1\/client → tenant-1\/ksvc-00001/,
    'tenant-1/allow-from-knative-and-istio',
  ],
  ['cross-tenant-directly', 'tenant-2', 'direct', 'serve', false, /tenant-1\/client → tenant-2\/ksvc-00001/, null],
  [
    'same-tenant-via-activator',
    'tenant-1',
    'activator',
    'proxy',
    true,
    /activator → tenant-1\/ksvc-00001/,
    'tenant-1/allow-from-knative-and-istio',
  ],
  ['cross-tenant-via-activator', 'tenant-2', 'activator', 'proxy', false, /tenant-1\/client → knative-serving\/activator/, null],
  [
    'same-tenant-via-ingress-via-activator',
    'tenant-1',
    'local-gateway',
    'proxy',
    true,
    /activator → tenant-1\/ksvc-00001/,
    'tenant-1/allow-from-knative-and-istio',
  ],
  [
    'cross-tenant-via-ingress-via-activator',
    'tenant-2',
    'local-gateway',
    'proxy',
    false,
    /tenant-1\/client → knative-serving\/activator/,
    null,
  ],
  [
    'same-tenant-via-ingress-no-activator',
    'tenant-1',
    'local-gateway',
    'serve',
    true,
    /tenant-1\/client → tenant-1\/ksvc-00001/,
    'tenant-1/allow-from-knative-and-istio',
  ],
  ['cross-tenant-via-ingress-no-activator', 'tenant-2', 'local-gateway', 'serve', false, /tenant-1\/client → tenant-2\/ksvc-00001/, null],
];

const E2E_TENANTS = [
  { name: 'tenant-1', namespaces: ['tenant-1'] },
  { name: 'tenant-2', namespaces: ['tenant-2'] },
];
const DOCS_TENANTS = [
  { name: 'team-alpha', namespaces: ['team-alpha-1', 'team-alpha-2'] },
  { name: 'team-bravo', namespaces: ['team-bravo-1', 'team-bravo-2'] },
];
const e2eModels = new Map(FLAVORS.map((f) => [f, renderedModel(E2E_TENANTS, [], f)]));
const docsModels = new Map(FLAVORS.map((f) => [f, renderedModel(DOCS_TENANTS, [], f)]));

for (const flavor of FLAVORS) {
  for (const [name, to, via, variant, allowed, hop, policy] of e2e) {
    test(`${flavor}: e2e ${name}: ${allowed ? '200' : '403'}`, () => {
      const r = run(e2eModels.get(flavor)!, 'tenant-1', to, via, variant);
      assert.equal(r.allowed, allowed, r.reason);
      assert.match(r.hop, hop);
      assert.equal(r.policy, policy);
      if (!allowed) assert.match(r.reason, /RBAC: access denied/); // 403, not a TLS failure
    });
  }

  test(`${flavor}: e2e: a cross-tenant activator denial comes from the Host-scoped activator policies`, () => {
    const r = run(e2eModels.get(flavor)!, 'tenant-1', 'tenant-2', 'activator', 'proxy');
    assert.match(r.reason, /knative-serving\/allow-tenant-1-to-activator/);
    assert.match(r.reason, /knative-serving\/allow-tenant-2-to-activator/);
  });
}

// Docs §2.4 (team-alpha / team-bravo, rendered): curl pod in team-alpha-1.
const docsCases: Array<[string, string, Via, boolean, string | null, RegExp]> = [
  [
    'alpha→alpha local (http://test-webapp.team-alpha-1)',
    'team-alpha-1',
    'local-gateway',
    true,
    'team-alpha-1/allow-from-knative-and-istio',
    /./,
  ],
  ['alpha→alpha external', 'team-alpha-1', 'external', true, 'team-alpha-1/allow-from-knative-and-istio', /./],
  ['alpha→bravo local: 403 RBAC: access denied', 'team-bravo-1', 'local-gateway', false, null, /^RBAC: access denied/],
  ['alpha→bravo external', 'team-bravo-1', 'external', true, 'team-bravo-1/allow-from-knative-and-istio', /./],
];
for (const flavor of FLAVORS) {
  for (const [name, to, via, allowed, policy, reason] of docsCases) {
    test(`${flavor}: docs §2.4 ${name}`, () => {
      for (const variant of variantsOf(via)) {
        const r = run(docsModels.get(flavor)!, 'team-alpha-1', to, via, variant);
        assert.equal(r.allowed, allowed, `${variant}: ${r.reason}`);
        assert.equal(r.policy, policy, variant);
        assert.match(r.reason, reason);
      }
    });
  }

  test(`${flavor}: docs §2.4 verify: no leak, no blocked edge, external is allowed across tenants`, () => {
    const m = docsModels.get(flavor)!;
    const rep = verifyModel(m);
    assert.deepEqual(rep.surprises, []);
    assert.equal(rep.violations, 0);
    assert.equal(rep.paths.length, 4 * 4 * 5);
    assert.ok(
      rep.requiredEdges.length > 0 && rep.requiredEdges.every((e) => e.allowed),
      JSON.stringify(rep.requiredEdges.filter((e) => !e.allowed)),
    );
    const ext = rep.paths.filter((p) => p.via === 'external');
    assert.ok(ext.every((p) => p.allowed));
    assert.equal(rep.paths.filter((p) => p.via === 'direct' && p.allowed).length, 8);
  });
}

/** (from, to, via) → allowed, for a whole verify report. */
const matrix = (m: KnativeModel, vias: ReadonlySet<Via>) =>
  verifyModel(m)
    .paths.filter((p) => vias.has(p.via))
    .map((p) => `${p.from} → ${p.to} via ${p.via}: ${p.allowed ? 'allowed' : 'denied'}`)
    .sort();

const SAME_EVERYWHERE = new Set<Via>(['direct', 'activator', 'local-gateway', 'external']);
test('the reachability matrix of the same tenants is identical for ossm2, ossm3 and istio (in-mesh paths and external)', () => {
  for (const models of [e2eModels, docsModels]) {
    const want = matrix(models.get('ossm2')!, SAME_EVERYWHERE);
    assert.ok(want.some((r) => r.endsWith('denied')) && want.some((r) => r.endsWith('allowed')));
    for (const f of FLAVORS) assert.deepEqual(matrix(models.get(f)!, SAME_EVERYWHERE), want, f);
  }
});

test('callers without a sidecar: the OSSM 2 local gateway (ISTIO_MUTUAL) refuses them; the tested OSSM 3 one (plain HTTP) admits them, like the external gateway', () => {
  // Not an in-mesh path, so not a tenant-isolation violation for verify; docs/flavours.md and
  // docs/network-paths.md (row 3b) say what it means and how NetworkPolicies narrow it.
  for (const f of FLAVORS) {
    const m = docsModels.get(f)!;
    const rows = verifyModel(m).paths.filter((p) => p.via === 'no-sidecar');
    assert.equal(rows.length, 16);
    if (m.profile.gateway.local.tls === 'ISTIO_MUTUAL') {
      assert.ok(
        rows.every((p) => !p.allowed && /ISTIO_MUTUAL/.test(p.reason)),
        f,
      );
    } else {
      assert.equal(m.profile.gateway.local.tls, 'PLAINTEXT', f);
      // The gateway forwards with its own identity (knative-serving-ingress), which every tenant admits.
      assert.ok(
        rows.every((p) => p.allowed && p.policy === `${p.to.split('/')[0]}/allow-from-knative-and-istio`),
        `${f}: ${JSON.stringify(rows.filter((p) => !p.allowed))}`,
      );
    }
  }
});

test('istio flavour: without the documented exclusions the kubelet PreStop hook would hit STRICT mTLS (verify says so)', () => {
  const objects = render(
    parseSpec(
      's.yaml',
      'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: t}\nspec:\n  mesh: {flavor: istio}\n  tenants: [{name: a, namespaces: [a-1]}]\n',
    ),
  ).filter((o) => SECURITY.has(o.kind));
  const bare = verifyModel(modelFromObjects(objects, { flavor: 'istio', tenants: [{ name: 'a', namespaces: ['a-1'] }] }));
  const drain = bare.requiredEdges.find((e) => e.edge === 'prestop-drain')!;
  assert.equal(drain.allowed, false);
  assert.match(drain.reason, /STRICT|mTLS|plaintext/i);
});

// V28–V30 as whole Knative paths (user policy in namespace `app`, OSSM 2 mesh, no chart policies).
const AP = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'app' },
  spec,
});
const SMCP: KubeObject = {
  apiVersion: 'maistra.io/v2',
  kind: 'ServiceMeshControlPlane',
  metadata: { name: 'basic', namespace: 'istio-system' },
  spec: {
    security: { dataPlane: { mtls: true } },
    proxy: { networking: { trafficControl: { inbound: { excludedPorts: [8444, 8022] } } } },
  },
};
const KSVC: KubeObject = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name: 'k', namespace: 'app' },
  spec: { template: { metadata: { labels: { 'sidecar.istio.io/inject': 'true' } } } },
};
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
  const m = renderedModel(
    [
      { name: 'tenant-1', namespaces: ['tenant-1'] },
      { name: 'tenant-2', namespaces: ['tenant-2'] },
    ],
    [leaky],
  );
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

/** One path variant evaluated on its own: every hop through plain `checkRequest` (no pruning, no cache, no classes). */
function pairOutcome(m: KnativeModel, from: string, to: string, via: Via, variant: 'serve' | 'proxy'): PathOutcome {
  const k = m.ksvcs.find((x) => x.namespace === to)!;
  const hops = pathHops(m, callerIn(from), k, via, variant);
  for (let i = 0; ; i++) {
    const r = checkRequest(hopRequest(hops[i]!), m.config, m.mesh);
    if (r.decision !== 'ALLOW' || i === hops.length - 1)
      return { variant, allowed: r.decision === 'ALLOW', hopIndex: i, decision: r.decision, policy: r.policy, reason: r.reason };
  }
}

test('equivalence classes equal pair-by-pair evaluation on a mixed, asymmetric policy set', () => {
  const ap = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'security.istio.io/v1beta1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace },
    spec,
  });
  const extra: KubeObject[] = [
    // one tenant namespace takes an extra ALLOW from another tenant's namespace
    ap('b-1', 'allow-from-a-1', { rules: [{ from: [{ source: { namespaces: ['a-1'] } }] }] }),
    // one namespace with a DENY policy: a wildcard and a principal, in different rules
    ap('c-2', 'deny-some', {
      action: 'DENY',
      rules: [{ from: [{ source: { namespaces: ['a-*'] } }] }, { from: [{ source: { principals: ['cluster.local/ns/c-1/sa/default'] } }] }],
    }),
    // the activator lets one namespace of tenant c (by service account) reach tenant a's ksvcs in a-2
    ap('knative-serving', 'allow-c-3-to-a-2', {
      selector: { matchLabels: { app: 'activator' } },
      rules: [{ from: [{ source: { serviceAccounts: ['c-3/default'] } }], to: [{ operation: { hosts: ['*.a-2.svc.cluster.local'] } }] }],
    }),
    // `namespaces: [sa]` is the regex `.*/ns/sa/.*`, which the principal of namespace `ns` (…/ns/ns/sa/default) matches
    ap('a-1', 'allow-sa', { rules: [{ from: [{ source: { namespaces: ['sa'] } }] }] }),
    // a client-side DestinationRule (exported to its own namespace only): b-1's sidecar sends plaintext, refused under STRICT
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'no-mtls', namespace: 'b-1' },
      spec: { host: '*.svc.cluster.local', exportTo: ['.'], trafficPolicy: { tls: { mode: 'DISABLE' } } },
    },
  ];
  const m = renderedModel(
    [
      { name: 'a', namespaces: ['a-1', 'a-2'] },
      { name: 'b', namespaces: ['b-1'] },
      { name: 'c', namespaces: ['c-1', 'c-2', 'c-3'] },
      { name: 'q', namespaces: ['ns'] },
    ],
    extra,
  );
  const rep = verifyModel(m);
  const counted = verifyModel(m, { expandRows: false });
  const v = new Verifier(m);
  assert.equal(rep.paths.length, m.sources.length * m.ksvcs.length * 5);
  const seen = new Set<string>();
  let leaks = 0;
  for (const row of rep.paths) {
    const key = `${row.from}|${row.to}|${row.via}`;
    assert.ok(!seen.has(key), `duplicate row ${key}`);
    seen.add(key);
    const k = m.ksvcs.find((x) => `${x.namespace}/${x.name}` === row.to)!;
    const outs = variantsOf(row.via).map((variant) => pairOutcome(m, row.from, k.namespace, row.via, variant));
    assert.deepEqual(row, toRow(v, row.from, k, row.via, outs), key);
    if (
      row.allowed &&
      (row.via === 'direct' || row.via === 'activator' || row.via === 'local-gateway') &&
      m.tenantOf.get(row.from) !== m.tenantOf.get(k.namespace)
    )
      leaks++;
  }
  // Classes without expanded rows: every member's outcomes are exactly its own pair-by-pair outcomes.
  for (const tp of counted.byTarget) {
    const members = tp.classes.flatMap((c) => [...c.sources]);
    assert.deepEqual([...members].sort(), [...m.sources].sort(), `${tp.target.namespace} ${tp.via}: classes partition the sources`);
    assert.equal(
      tp.classes.reduce((n, c) => n + c.size, 0),
      m.sources.length,
    );
    for (const c of tp.classes)
      for (const from of c.sources) {
        assert.ok(c.has(from));
        const outs = variantsOf(tp.via).map((variant) => pairOutcome(m, from, tp.target.namespace, tp.via, variant));
        assert.deepEqual(c.outcomes, outs, `${from} → ${tp.target.namespace} via ${tp.via}`);
      }
  }
  assert.equal(counted.violations, rep.violations);
  assert.equal(rep.violations, leaks + rep.requiredEdges.filter((e) => !e.allowed).length);
  // The set exercises what it claims to.
  const row = (from: string, to: string, via: Via) => rep.paths.find((p) => p.from === from && p.to === `${to}/ksvc` && p.via === via)!;
  assert.deepEqual([row('a-1', 'b-1', 'direct').allowed, row('a-1', 'b-1', 'direct').policy], [true, 'b-1/allow-from-a-1']);
  assert.equal(row('a-2', 'b-1', 'direct').allowed, false);
  assert.deepEqual([row('a-1', 'c-2', 'direct').allowed, row('a-1', 'c-2', 'direct').policy], [false, 'c-2/deny-some']);
  assert.match(row('a-1', 'c-2', 'direct').reason, /rules\[0\]/);
  assert.match(row('c-1', 'c-2', 'direct').reason, /rules\[1\]/);
  assert.equal(row('c-3', 'c-2', 'direct').allowed, true);
  assert.equal(row('c-3', 'a-2', 'activator').allowed, true);
  assert.equal(row('c-3', 'a-1', 'activator').allowed, false);
  assert.deepEqual([row('ns', 'a-1', 'direct').allowed, row('ns', 'a-1', 'direct').policy], [true, 'a-1/allow-sa']);
  assert.match(row('b-1', 'a-1', 'direct').reason, /STRICT mTLS/);
  assert.match(row('c-1', 'a-1', 'direct').reason, /RBAC: access denied/);
  assert.ok(leaks >= 3);
});
