/**
 * The core kinds the render emits (Namespace, Service, Secret, NetworkPolicy) validate against the
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
import { example, TEST_TLS } from '../helpers/shared.ts';

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
        if (['/v1/Namespace', '/v1/Service', '/v1/Secret', 'networking.k8s.io/v1/NetworkPolicy'].includes(key)) {
          validators.set(key, ajv.compile({ $ref: `#/definitions/${name}`, definitions }));
        }
      }
    }
    assert.equal(validators.size, 4);
  });
  after(() => client?.close());

  for (const name of ['ossm2-basic', 'ossm2-tenants', 'ossm2-kafka', 'kourier']) {
    it(name, () => {
      let checked = 0;
      for (const obj of render(example(name), { tls: TEST_TLS })) {
        const v = validators.get(gvk(obj));
        if (!v) continue;
        assert.ok(v(obj), `${objectRef(obj)}: ${JSON.stringify(v.errors)}`);
        checked++;
      }
      assert.ok(checked > 0);
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
