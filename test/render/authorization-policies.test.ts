/**
 * The AuthorizationPolicies equal, semantically, what the documentation (seed 003 chapter 2.3)
 * and the `redhat-knative-istio-authz` chart (research §6.6, verbatim `helm template` output) produce.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { tenantAuthorizationPolicies } from '../../src/render/authz-tenant.ts';
import { ossm2 } from '../../src/flavors/ossm2.ts';
import { render } from '../../src/render/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, readShared, TEST_TLS } from '../helpers/shared.ts';

const parseDocs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((v) => v !== null && v !== undefined);

/** The chart's rendered team-alpha example: the first ```yaml block after the §6.6 heading. */
function chartTeamAlpha(): unknown[] {
  const md = readShared('research', 'serverless-operator.md');
  const start = md.indexOf('### 6.6 Rendered example');
  assert.ok(start > 0, '§6.6 not found in research/serverless-operator.md');
  const block = /```yaml\n([\s\S]*?)```/.exec(md.slice(start));
  assert.ok(block, '§6.6 has no yaml block');
  return parseDocs(block[1] as string);
}

/** Docs chapter 2.3 step 2: the indented knative-default-authz-policies.yaml example. */
function docsSystemPolicies(): unknown[] {
  const text = readShared('seeds', '003_927a22645e4c9105.txt');
  const from = text.indexOf('Example knative-default-authz-policies.yaml configuration file');
  const to = text.indexOf('These policies restrict the access rules', from);
  assert.ok(from > 0 && to > from, 'chapter 2.3 example not found in seed 003');
  const lines = text.slice(from, to).split('\n').slice(1);
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return parseDocs(lines.map((l) => l.slice(indent)).join('\n'));
}

const policies = (objs: KubeObject[]) => objs.filter((o) => o.kind === 'AuthorizationPolicy');

describe('per-tenant policies equal the chart (research §6.6, team-alpha)', () => {
  const expected = chartTeamAlpha();
  const mesh = example('ossm2-tenants');
  const alpha = mesh.spec.tenants.find((t) => t.name === 'team-alpha')!;

  it('the chart example has 13 policies (2n+9 for n=2)', () => assert.equal(expected.length, 13));

  it('render produces the same policies, same order, field for field', () => {
    assert.deepEqual(tenantAuthorizationPolicies(mesh.spec, ossm2, alpha), expected);
  });

  it('the full render contains them for each tenant, 2n+9 each', () => {
    const all = policies(render(mesh, { tls: TEST_TLS }));
    for (const t of mesh.spec.tenants) {
      const own = all.filter((p) => t.namespaces.includes(p.metadata.namespace!) || p.metadata.name.startsWith(`allow-${t.name}-`));
      assert.equal(own.length, 2 * t.namespaces.length + 9, t.name);
    }
  });

  it('eventing disabled drops the eventing policies and rules (chart eventing.enabled=false)', () => {
    const m = example('ossm2-tenants');
    m.spec.eventing.enabled = false;
    const out = tenantAuthorizationPolicies(m.spec, ossm2, alpha);
    assert.deepEqual(
      out.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
      [
        'team-alpha-1/allow-from-knative-and-istio',
        'team-alpha-2/allow-from-knative-and-istio',
        'knative-serving/allow-team-alpha-to-activator',
        'team-alpha-1/allow-wait-for-drain',
        'team-alpha-2/allow-wait-for-drain',
      ],
    );
    for (const p of out) assert.ok(!JSON.stringify(p).includes('knative-eventing'), p.metadata.name);
  });

  it('a control plane outside istio-system is the namespace the tenant admits', () => {
    const m = example('ossm2-tenants');
    m.spec.mesh.namespace = 'mesh-cp';
    const [first] = tenantAuthorizationPolicies(m.spec, ossm2, alpha) as any[];
    assert.deepEqual(first.spec.rules[0].from[0].source.namespaces, [
      'team-alpha-1',
      'team-alpha-2',
      'knative-serving',
      'knative-serving-ingress',
      'mesh-cp',
    ]);
  });
});

describe('system policies equal the documentation (seed 003, chapter 2.3)', () => {
  it('same 11 policies, same order, field for field', () => {
    const expected = docsSystemPolicies();
    assert.equal(expected.length, 11);
    const rendered = policies(render(example('ossm2-tenants'), { tls: TEST_TLS })).slice(0, expected.length);
    assert.deepEqual(rendered, expected);
  });

  it('no tenants: no AuthorizationPolicies at all (nothing to isolate)', () => {
    assert.equal(policies(render(example('ossm2-basic'), { tls: TEST_TLS })).length, 0);
  });
});
