// The ServerlessMesh CustomResourceDefinition, generated from the spec's JSON Schema (api/schema.ts,
// written in the structural subset for this). `node --import tsx scripts/gen-crd.ts` writes
// deploy/crd.yaml; test/controller/crd.test.ts fails when that file is stale.
import { specSchema } from '../api/schema.ts';
import type { KubeObject } from '../util/kube.ts';

export const CR_GROUP = 'serverlessmesh.dev';
export const CR_VERSION = 'v1alpha1';
export const CR_KIND = 'ServerlessMesh';
export const CR_PLURAL = 'serverlessmeshes';
export const CRD_NAME = `${CR_PLURAL}.${CR_GROUP}`;
/** Resource of the CR for the cluster layer. */
export const CR_RESOURCE = { group: CR_GROUP, version: CR_VERSION, kind: CR_KIND, plural: CR_PLURAL, namespaced: false } as const;

type Schema = Record<string, unknown>;

/**
 * JSON Schema → CRD structural schema: `additionalProperties: false` goes (the apiserver prunes
 * unknown fields instead), `uniqueItems` (not allowed in a CRD) becomes `x-kubernetes-list-type: set`
 * on lists of scalars. Everything else (types, patterns, bounds, enums, defaults, descriptions) stays.
 */
export function toStructural(s: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'additionalProperties') {
      if (v === false) continue;
      out[k] = typeof v === 'object' && v ? toStructural(v as Schema) : v;
    } else if (k === 'uniqueItems') {
      const items = s.items as Schema | undefined;
      if (v === true && items && ['string', 'integer', 'number', 'boolean'].includes(String(items.type)))
        out['x-kubernetes-list-type'] = 'set';
    } else if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, toStructural(ps)]));
    } else if (k === 'items') {
      out[k] = toStructural(v as Schema);
    } else out[k] = v;
  }
  return out;
}

const condition = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    observedGeneration: { type: 'integer', format: 'int64' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

export const statusSchema = {
  type: 'object',
  description: 'Written by `serverless-mesh controller run`.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The generation of the spec the conditions describe.' },
    conditions: { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
    applied: { type: 'integer', description: 'Rendered objects applied in the last reconcile.' },
    pending: { type: 'integer', description: 'Rendered objects not applied or not Ready yet.' },
    objects: { type: 'integer', description: 'Objects the spec renders.' },
    conflicts: { type: 'array', items: { type: 'string' }, description: 'Fields another field manager owns (not taken over).' },
  },
};

/** The CRD object (cluster-scoped, status subresource, printer columns). */
export function serverlessMeshCrd(): KubeObject {
  const root = specSchema as unknown as Schema;
  const spec = toStructural((root.properties as Record<string, Schema>).spec!);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/name': 'serverless-mesh', 'app.kubernetes.io/component': 'crd' } },
    spec: {
      group: CR_GROUP,
      names: { kind: CR_KIND, listKind: `${CR_KIND}List`, plural: CR_PLURAL, singular: 'serverlessmesh', shortNames: ['smesh'] },
      scope: 'Cluster',
      versions: [
        {
          name: CR_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Flavor', type: 'string', jsonPath: '.spec.mesh.flavor' },
            { name: 'Domain', type: 'string', jsonPath: '.spec.domain' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            { name: 'Applied', type: 'integer', jsonPath: '.status.applied', priority: 1 },
            { name: 'Pending', type: 'integer', jsonPath: '.status.pending', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'One Knative-in-a-service-mesh installation; the same document `serverless-mesh apply -f` reads.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}
