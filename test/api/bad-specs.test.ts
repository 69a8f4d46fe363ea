/**
 * Bad specs: each produces exactly the expected `FILE:LINE:COL: path: message` lines (exit 2 at
 * the CLI), and nothing is rendered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/api/load.ts';
import { InputErrors } from '../../src/util/errors.ts';

const HEAD = 'apiVersion: serverlessmesh.dev/v1alpha1\nkind: ServerlessMesh\nmetadata:\n  name: default\n';

const cases: Array<{ title: string; yaml: string; errors: string[] }> = [
  {
    title: 'malformed YAML',
    yaml: `${HEAD}spec:\n  mesh: {flavor: ossm2\n`,
    errors: ['s.yaml:7:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }'],
  },
  {
    title: 'duplicate key',
    yaml: `${HEAD}spec:\n  ingress: istio\n  ingress: kourier\n`,
    errors: ['s.yaml:7:3: invalid YAML: duplicate key "ingress"'],
  },
  {
    title: 'unknown field, pointing at the key',
    yaml: `${HEAD}spec:\n  mesh:\n    flavour: ossm2\n`,
    errors: ['s.yaml:7:5: spec.mesh.flavour: unknown field "flavour"'],
  },
  {
    title: 'Service Mesh older than 2.2 (seed 001 prerequisite)',
    yaml: `${HEAD}spec:\n  mesh: {version: v2.1}\n`,
    errors: ['s.yaml:6:19: spec.mesh.version: OpenShift Serverless needs Service Mesh 2.2 or later, got "v2.1"'],
  },
  {
    title: 'an OSSM 3 Istio version under flavor ossm2',
    yaml: `${HEAD}spec:\n  mesh: {version: v1.27-latest}\n`,
    errors: ['s.yaml:6:19: spec.mesh.version: invalid version "v1.27-latest" for ossm2: expected vMAJOR.MINOR (e.g. v2.6)'],
  },
  {
    title: 'an OSSM 2 version under flavor ossm3',
    yaml: `${HEAD}spec:\n  mesh: {flavor: ossm3, version: v2.6}\n`,
    errors: ['s.yaml:6:34: spec.mesh.version: invalid version "v2.6" for ossm3: expected an Istio version such as v1.27-latest or v1.27.3'],
  },
  {
    title: 'wrong type',
    yaml: `${HEAD}spec:\n  members: your-project\n`,
    errors: ['s.yaml:6:12: spec.members: must be array, got string'],
  },
  {
    title: 'enum',
    yaml: `${HEAD}spec:\n  mesh: {flavor: ossm4}\n`,
    errors: ['s.yaml:6:18: spec.mesh.flavor: must be one of: ossm2, ossm3, istio'],
  },
  {
    title: 'invalid DNS-1123 namespace name',
    yaml: `${HEAD}spec:\n  tenants:\n    - name: alpha\n      namespaces: [Team_Alpha]\n`,
    errors: [
      `s.yaml:8:20: spec.tenants[0].namespaces[0]: invalid name "Team_Alpha": must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)`,
    ],
  },
  {
    title: 'namespace name too long',
    yaml: `${HEAD}spec:\n  members: [${'a'.repeat(64)}]\n`,
    errors: ['s.yaml:6:13: spec.members[0]: must NOT have more than 63 characters'],
  },
  {
    title: 'namespace in two tenants',
    yaml: `${HEAD}spec:\n  tenants:\n    - {name: alpha, namespaces: [shared]}\n    - {name: bravo, namespaces: [b1, shared]}\n`,
    errors: ['s.yaml:8:38: spec.tenants[1].namespaces[1]: namespace "shared" already belongs to tenant "alpha" (spec.tenants[0])'],
  },
  {
    title: 'tenant namespace equal to a Knative system namespace',
    yaml: `${HEAD}spec:\n  tenants:\n    - {name: alpha, namespaces: [knative-serving]}\n`,
    errors: [
      's.yaml:7:34: spec.tenants[0].namespaces[0]: namespace "knative-serving" is a Knative or mesh system namespace and cannot belong to a tenant',
    ],
  },
  {
    title: 'tenant namespace equal to the mesh namespace',
    yaml: `${HEAD}spec:\n  mesh: {namespace: cp}\n  tenants:\n    - {name: alpha, namespaces: [cp]}\n`,
    errors: [
      's.yaml:8:34: spec.tenants[0].namespaces[0]: namespace "cp" is a Knative or mesh system namespace and cannot belong to a tenant',
    ],
  },
  {
    title: 'duplicate tenant name',
    yaml: `${HEAD}spec:\n  tenants:\n    - {name: alpha, namespaces: [a1]}\n    - {name: alpha, namespaces: [a2]}\n`,
    errors: ['s.yaml:8:14: spec.tenants[1].name: duplicate tenant name "alpha" (also spec.tenants[0])'],
  },
  {
    title: 'member that is also a tenant namespace',
    yaml: `${HEAD}spec:\n  members: [a1]\n  tenants:\n    - {name: alpha, namespaces: [a1]}\n`,
    errors: ['s.yaml:6:13: spec.members[0]: namespace "a1" already belongs to tenant "alpha"; list it once'],
  },
  {
    title: 'certificate generation without a domain',
    yaml: `${HEAD}spec:\n  tls: {generate: true}\n`,
    errors: ['s.yaml:6:19: spec.tls.generate: generating a wildcard certificate needs spec.domain'],
  },
  {
    title: 'missing required field with the parent position',
    yaml: `${HEAD}spec:\n  kafka: {numPartitions: 3}\n`,
    errors: ['s.yaml:6:10: spec.kafka: missing required field "bootstrapServers"'],
  },
  {
    title: 'tenants with Kourier',
    yaml: `${HEAD}spec:\n  ingress: kourier\n  tenants: [{name: alpha, namespaces: [a1]}]\n`,
    errors: ['s.yaml:7:12: spec.tenants: tenant isolation needs ingress: istio (with Kourier the Knative data path is outside the mesh)'],
  },
  {
    title: 'wrong apiVersion and kind',
    yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n',
    errors: ['s.yaml:1:13: apiVersion: must be one of: serverlessmesh.dev/v1alpha1', 's.yaml:2:7: kind: must be one of: ServerlessMesh'],
  },
  {
    title: 'two documents',
    yaml: `${HEAD}---\n${HEAD}`,
    errors: ['s.yaml:6:1: expected exactly one ServerlessMesh document, found 2'],
  },
  {
    title: 'several errors at once, in document order',
    yaml: `${HEAD}spec:\n  ingress: nginx\n  members: [Bad]\n`,
    errors: [
      's.yaml:6:12: spec.ingress: must be one of: istio, kourier',
      `s.yaml:7:13: spec.members[0]: invalid name "Bad": must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)`,
    ],
  },
];

describe('bad specs produce exact, positioned errors', () => {
  for (const c of cases) {
    it(c.title, () => {
      assert.throws(
        () => parseSpec('s.yaml', c.yaml),
        (err: unknown) => {
          assert.ok(err instanceof InputErrors, String(err));
          assert.equal(err.kind, 'input');
          assert.deepEqual(err.lines, c.errors);
          return true;
        },
      );
    });
  }

  it('a minimal spec gets every default', () => {
    const mesh = parseSpec('s.yaml', HEAD);
    assert.deepEqual(mesh.spec, {
      mesh: { flavor: 'ossm2', namespace: 'istio-system', controlPlane: 'basic', longRunningRequests: false, manageControlPlane: true },
      ingress: 'istio',
      tls: { secretName: 'wildcard-certs', generate: false },
      serving: { enabled: true },
      eventing: { enabled: true },
      members: [],
      tenants: [],
      metrics: { enabled: true, monitoringNamespace: 'openshift-monitoring' },
      networkPolicies: 'generate',
      secretFiltering: true,
    });
  });

  it('the control plane name defaults per flavour: SMCP basic, sail-operator Istio default', () => {
    assert.equal(parseSpec('s.yaml', `${HEAD}spec:\n  mesh: {flavor: ossm3}\n`).spec.mesh.controlPlane, 'default');
    assert.equal(parseSpec('s.yaml', `${HEAD}spec:\n  mesh: {flavor: istio}\n`).spec.mesh.controlPlane, 'default');
    assert.equal(parseSpec('s.yaml', `${HEAD}spec:\n  mesh: {flavor: ossm3, controlPlane: prod}\n`).spec.mesh.controlPlane, 'prod');
  });

  it("networkPolicies defaults per flavour: ossm2 generate (the operator's), ossm3/istio disabled (seed 000); an explicit value wins", () => {
    const np = (mesh: string) => parseSpec('s.yaml', `${HEAD}spec:\n  ${mesh}\n`).spec.networkPolicies;
    assert.equal(np('mesh: {flavor: ossm2}'), 'generate');
    assert.equal(np('mesh: {flavor: ossm3}'), 'disabled');
    assert.equal(np('mesh: {flavor: istio}'), 'disabled');
    assert.equal(np('mesh: {flavor: ossm3}\n  networkPolicies: generate'), 'generate');
    assert.equal(np('mesh: {flavor: ossm2}\n  networkPolicies: disabled'), 'disabled');
  });

  it('kafka ports default to the ports of the bootstrap servers', () => {
    const mesh = parseSpec('s.yaml', `${HEAD}spec:\n  kafka: {bootstrapServers: [a.kafka:9092, b.kafka:9093, c.kafka]}\n`);
    assert.deepEqual(mesh.spec.kafka?.ports, [9092, 9093]);
  });
});
