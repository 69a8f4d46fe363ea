import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterRules, controllerManifests, emittedKinds, pluralOf } from '../../src/controller/manifests.ts';

const bundle = () => controllerManifests({ namespace: 'sm-system', image: 'example.com/sm:1' });

test('controller manifests: apply order CRD → ServiceAccount → ClusterRole → bindings → Deployment → Service', () => {
  assert.deepEqual(
    bundle().map((o) => o.kind),
    [
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Deployment',
      'Service',
    ],
  );
});

test('ClusterRole: no "*" anywhere; every kind the renderers emit is covered; namespaces are never deleted', () => {
  const rules = clusterRules();
  for (const r of rules) for (const v of [...r.apiGroups, ...r.resources, ...r.verbs]) assert.notEqual(v, '*', JSON.stringify(r));
  assert.doesNotMatch(JSON.stringify(bundle()), /"\*"/);
  for (const k of emittedKinds()) {
    const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0]! : '';
    assert.ok(
      rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(pluralOf(k.kind)) && r.verbs.includes('patch')),
      `${k.apiVersion} ${k.kind} covered`,
    );
  }
  const ns = rules.filter((r) => r.resources.includes('namespaces'));
  assert.equal(ns.length, 1);
  assert.ok(!ns[0]!.verbs.includes('delete'));
  assert.ok(rules.some((r) => r.resources.includes('serverlessmeshes/status')));
  assert.ok(rules.some((r) => r.resources.includes('serverlessmeshes/finalizers')));
});

test('Deployment: non-root, read-only root filesystem, requests and limits, probes; metrics Service', () => {
  const d = bundle().find((o) => o.kind === 'Deployment') as unknown as {
    spec: { template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: Record<string, Record<string, unknown>>[] } } };
  };
  const pod = d.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const c = pod.containers[0]!;
  assert.equal(c.securityContext!.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext!.allowPrivilegeEscalation, false);
  assert.ok(c.resources!.requests && c.resources!.limits);
  assert.deepEqual((c.livenessProbe as { httpGet: { path: string } }).httpGet.path, '/healthz');
  assert.deepEqual((c.readinessProbe as { httpGet: { path: string } }).httpGet.path, '/readyz');
  const svc = bundle().find((o) => o.kind === 'Service') as unknown as { spec: { ports: { name: string }[] } };
  assert.equal(svc.spec.ports[0]!.name, 'metrics');
});
