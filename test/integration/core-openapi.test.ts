/**
 * The core kinds the render emits (Namespace, Service, Secret, NetworkPolicy; on ossm3/istio also the
 * gateway Deployment and its SDS Role/RoleBinding) validate against the
 * real kube-apiserver's /openapi/v2 schema, with unknown fields rejected — the counterpart of the
 * CRD validation for custom resources. Needs the test apiserver (scripts/test-env.mjs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ValidateFunction } from 'ajv';
import { KubeClient } from '../../src/cluster/client.ts';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.ts';
import { render } from '../../src/render/index.ts';
import { makeAjv, strictify } from '../../src/crd/schema-validation.ts';
import { gvk, objectRef } from '../../src/util/kube.ts';
import { parseSpec } from '../../src/api/load.ts';
import { profileFor } from '../../src/flavors/index.ts';
import { example, EXAMPLES, TEST_TLS } from '../helpers/shared.ts';

const CORE_KINDS = [
  '/v1/Namespace',
  '/v1/Service',
  '/v1/Secret',
  'networking.k8s.io/v1/NetworkPolicy',
  'apps/v1/Deployment',
  'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding',
];

/** ossm3 / istio with the objects the examples leave out: NetworkPolicies of every path, Kafka, members. */
const variant = (flavor: string) =>
  parseSpec(
    'v.yaml',
    `apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata: {name: v}\nspec:\n  mesh: {flavor: ${flavor}}\n  domain: apps.example.com\n  tls: {generate: true}\n  networkPolicies: generate\n  kafka: {bootstrapServers: ['k.kafka:9092']}\n  members: [plain]\n  tenants: [{name: a, namespaces: [a-1, a-2]}]\n`,
  );

interface Swagger {
  definitions: Record<string, any>;
}

describe('core kinds validate against the apiserver OpenAPI v2 schema', () => {
  let client: KubeClient;
  const validators = new Map<string, ValidateFunction>();

  before(async () => {
    assert.ok(process.env.KUBECONFIG, 'KUBECONFIG must point at the test apiserver (run through npm test)');
    client = new KubeClient(loadKubeConfig());
    const swagger = await client.request<Swagger>('GET', '/openapi/v2');
    const ajv = makeAjv();
    const definitions = strictify(swagger.definitions);
    for (const [name, def] of Object.entries<any>(swagger.definitions)) {
      for (const g of def['x-kubernetes-group-version-kind'] ?? []) {
        const key = `${g.group}/${g.version}/${g.kind}`;
        if (CORE_KINDS.includes(key)) {
          validators.set(key, ajv.compile({ $ref: `#/definitions/${name}`, definitions }));
        }
      }
    }
    assert.equal(validators.size, CORE_KINDS.length);
  });
  after(() => client?.close());

  const cases = [
    ...EXAMPLES.map((name) => [name, () => example(name)] as const),
    ...['ossm3', 'istio'].map((f) => [`${f}, networkPolicies: generate, Kafka`, () => variant(f)] as const),
  ];
  for (const [name, mesh] of cases) {
    it(name, () => {
      let checked = 0;
      const kinds = new Set<string>();
      for (const obj of render(mesh(), { tls: TEST_TLS })) {
        const v = validators.get(gvk(obj));
        if (!v) continue;
        assert.ok(v(obj), `${objectRef(obj)}: ${JSON.stringify(v.errors)}`);
        kinds.add(gvk(obj));
        checked++;
      }
      assert.ok(checked > 0);
      // Where render runs Knative's own gateway (ossm3, istio), its Deployment and RBAC were checked.
      const m = mesh();
      if (m.spec.ingress === 'istio' && profileFor(m.spec.mesh.flavor).gateway.managedDeployment)
        for (const k of CORE_KINDS.slice(4)) assert.ok(kinds.has(k), `${name}: no ${k} checked`);
    });
  }

  it('the schema catches a misspelt field (NetworkPolicy `_from`, the client-node model name)', () => {
    const np = render(example('kourier')).find((o) => o.kind === 'NetworkPolicy') as any;
    const bad = structuredClone(np);
    bad.spec.ingress[0]._from = bad.spec.ingress[0].from;
    delete bad.spec.ingress[0].from;
    assert.equal(validators.get('networking.k8s.io/v1/NetworkPolicy')!(bad), false);
  });
});
