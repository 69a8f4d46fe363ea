import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crdFileText } from '../../src/controller/crd-file.ts';
import { serverlessMeshCrd, toStructural } from '../../src/controller/crd.ts';
import { ROOT } from '../helpers/shared.ts';

test('deploy/crd.yaml is what scripts/gen-crd.ts generates from src/api/schema.ts (run it after a schema change)', () => {
  assert.equal(readFileSync(join(ROOT, 'deploy/crd.yaml'), 'utf8'), crdFileText());
});

test('CRD: cluster-scoped, status subresource, printer columns, spec defaults kept', () => {
  const crd = serverlessMeshCrd() as unknown as {
    spec: {
      scope: string;
      versions: {
        subresources: unknown;
        additionalPrinterColumns: { name: string }[];
        schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } };
      }[];
    };
  };
  assert.equal(crd.spec.scope, 'Cluster');
  const v = crd.spec.versions[0]!;
  assert.deepEqual(v.subresources, { status: {} });
  assert.deepEqual(
    v.additionalPrinterColumns.map((c) => c.name),
    ['Flavor', 'Domain', 'Ready', 'Reason', 'Applied', 'Pending', 'Age'],
  );
  const spec = v.schema.openAPIV3Schema.properties.spec as { properties: { mesh: { properties: { flavor: { default: string } } } } };
  assert.equal(spec.properties.mesh.properties.flavor.default, 'ossm2');
  const text = JSON.stringify(v.schema);
  assert.doesNotMatch(text, /"uniqueItems"|"additionalProperties":false/);
});

test('toStructural: uniqueItems on scalar lists becomes list-type set; maps keep additionalProperties', () => {
  assert.deepEqual(toStructural({ type: 'array', uniqueItems: true, items: { type: 'string' } }), {
    type: 'array',
    'x-kubernetes-list-type': 'set',
    items: { type: 'string' },
  });
  assert.deepEqual(toStructural({ type: 'object', additionalProperties: { type: 'string' } }), {
    type: 'object',
    additionalProperties: { type: 'string' },
  });
  assert.deepEqual(toStructural({ type: 'object', additionalProperties: false, properties: { a: { type: 'integer' } } }), {
    type: 'object',
    properties: { a: { type: 'integer' } },
  });
});
