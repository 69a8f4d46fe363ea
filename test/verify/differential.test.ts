// The grouped evaluation (source classes per target and path, eventing's named sources plus one
// representative, shared hop decisions) against the straightforward one (`reference: true`: every
// source evaluated on its own), on randomized multi-tenant manifest sets whose tenants differ: a
// policy letting another tenant's namespace in, a DENY in one namespace, an ALLOW-nothing policy, a
// DENY at a shared receiver by path, member namespaces outside every tenant, ksvc manifests. Both must
// give the same report; only the order rows come in and the class bookkeeping may differ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { render } from '../../src/render/index.ts';
import { meshReadyKsvc } from '../../src/render/ksvc.ts';
import { verifyModel } from '../../src/verify/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { tenantSpec } from '../../bench/tenant-spec.ts';

const ap = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace },
  spec,
});

const edit = fc.oneof(
  // One tenant's namespace lets another tenant's namespace in.
  fc.record({ kind: fc.constant('allow-other' as const), at: fc.nat(), from: fc.nat() }),
  // A DENY for some sources in one namespace.
  fc.record({ kind: fc.constant('deny' as const), at: fc.nat(), from: fc.nat() }),
  // An ALLOW policy without rules: allows nothing at its namespace.
  fc.record({ kind: fc.constant('allow-nothing' as const), at: fc.nat(), from: fc.nat() }),
  // A DENY at the shared broker ingress for one source and one namespace's broker path.
  fc.record({ kind: fc.constant('deny-broker' as const), at: fc.nat(), from: fc.nat() }),
  // The activator lets one more source in for one namespace's hosts.
  fc.record({ kind: fc.constant('activator-extra' as const), at: fc.nat(), from: fc.nat() }),
);

const scenario = fc.record({
  tenants: fc.integer({ min: 2, max: 4 }),
  perTenant: fc.integer({ min: 1, max: 2 }),
  members: fc.integer({ min: 0, max: 2 }),
  ksvcs: fc.integer({ min: 0, max: 3 }),
  edits: fc.array(edit, { maxLength: 4 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const memberNames = Array.from({ length: s.members }, (_, i) => `shared-${i}`);
  const mesh = tenantSpec(s.tenants, s.perTenant, memberNames.length ? `  members: [${memberNames.join(', ')}]\n` : '');
  const objects: KubeObject[] = render(mesh);
  const nss = [...mesh.spec.tenants.flatMap((t) => t.namespaces), ...memberNames];
  const pick = (i: number) => nss[i % nss.length]!;
  for (let i = 0; i < s.ksvcs; i++)
    objects.push(meshReadyKsvc({ name: `app-${i}`, namespace: pick(i * 3), image: 'quay.io/example/app:1' }));
  s.edits.forEach((e, i) => {
    const at = pick(e.at);
    const from = pick(e.from);
    if (e.kind === 'allow-other')
      objects.push(ap(at, `extra-${i}`, { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: [from] } }] }] }));
    if (e.kind === 'deny') objects.push(ap(at, `extra-${i}`, { action: 'DENY', rules: [{ from: [{ source: { namespaces: [from] } }] }] }));
    if (e.kind === 'allow-nothing') objects.push(ap(at, `extra-${i}`, { action: 'ALLOW' }));
    if (e.kind === 'deny-broker')
      objects.push(
        ap('knative-eventing', `extra-${i}`, {
          action: 'DENY',
          selector: { matchLabels: { 'app.kubernetes.io/component': 'broker-ingress' } },
          rules: [{ from: [{ source: { namespaces: [from] } }], to: [{ operation: { paths: [`/${at}/*`] } }] }],
        }),
      );
    if (e.kind === 'activator-extra')
      objects.push(
        ap('knative-serving', `extra-${i}`, {
          action: 'ALLOW',
          selector: { matchLabels: { 'app.kubernetes.io/component': 'activator' } },
          rules: [{ from: [{ source: { namespaces: [from] } }], to: [{ operation: { hosts: [`*.${at}.svc.cluster.local`] } }] }],
        }),
      );
  });
  return modelFromObjects(objects, { tenants: mesh.spec.tenants, members: mesh.spec.members, flavor: 'ossm2' });
}

const sorted = <T>(xs: readonly T[]) => xs.map((x) => JSON.stringify(x)).sort();

/** Per (target, path, source): the outcomes its class gives it. */
function perSource(rep: ReturnType<typeof verifyModel>) {
  const out = new Map<string, string>();
  for (const tp of rep.byTarget)
    for (const c of tp.classes)
      for (const s of c.sources) {
        const key = `${tp.target.namespace}/${tp.target.name}|${tp.via}|${s}`;
        assert.ok(!out.has(key), `${key} in two classes`);
        out.set(key, JSON.stringify(c.outcomes));
      }
  return out;
}

/** What must not depend on grouping: everything but row order and class bookkeeping. */
function comparable(rep: ReturnType<typeof verifyModel>, counted: boolean) {
  return {
    paths: sorted(rep.paths),
    eventing: sorted(rep.eventing),
    expectations: rep.expectations,
    requiredEdges: rep.requiredEdges,
    violations: rep.violations,
    sources: rep.stats.sources,
    targets: rep.stats.targets,
    perSource: [...perSource(rep)].sort(),
    // Counting names one example source per class (which one depends on the class's member order).
    findings: counted
      ? sorted(rep.findings.map((f) => [f.code, f.resource, f.reachability?.to, f.reachability?.via, f.reachability?.policy]))
      : sorted(rep.findings),
    surprises: counted ? rep.surprises.length : sorted(rep.surprises),
  };
}

test('grouped verification gives the report of evaluating every source on its own', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const m = build(s);
      for (const expandRows of [true, false]) {
        const fast = verifyModel(m, { expandRows });
        const ref = verifyModel(m, { expandRows, reference: true });
        assert.deepEqual(comparable(fast, !expandRows), comparable(ref, !expandRows), `expandRows ${expandRows}`);
      }
    }),
    { numRuns: 40, seed: 20261202 },
  );
});

test('the randomized sets reach what they claim: leaks, refusals and eventing findings occur', () => {
  // Without this the property above could hold on sets that never leave the happy path.
  const seen = { leak: 0, broken: 0, eventing: 0 };
  fc.assert(
    fc.property(scenario, (s) => {
      const rep = verifyModel(build(s));
      if (rep.findings.some((f) => f.code === 'SM5001')) seen.leak++;
      if (rep.findings.some((f) => f.code === 'SM5002')) seen.broken++;
      if (rep.findings.some((f) => f.reachability && /broker|channel|sink/.test(f.reachability.via))) seen.eventing++;
    }),
    { numRuns: 40, seed: 20261202 },
  );
  assert.ok(seen.leak > 0 && seen.broken > 0 && seen.eventing > 0, JSON.stringify(seen));
});
