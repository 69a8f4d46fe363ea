// SM2012 and the NetworkPolicy evaluator behind it: Kubernetes ingress semantics in three values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec } from '../../src/api/load.ts';
import { ingressAdmits, selects, type Caller } from '../../src/check/network-policy.ts';
import { RULES } from '../../src/check/registry.ts';
import { render } from '../../src/render/index.ts';
import { emitYaml } from '../../src/render/yaml-emit.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { TEST_TLS } from '../helpers/shared.ts';
import { findingsFor, ruleTester } from './rule-tester.ts';

const np = (namespace: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'p', namespace },
  spec,
});
const known = (labels: Record<string, string>, complete = false) => ({ labels, complete });
const pod = (namespace: string, labels: Record<string, string>, nsLabels: Record<string, string> = {}): Caller => ({
  namespace,
  namespaceLabels: known({ 'kubernetes.io/metadata.name': namespace, ...nsLabels }, true),
  pod: known(labels),
});
const target = { namespace: 'apps', pod: known({ app: 'web' }) };

describe('NetworkPolicy ingress semantics', () => {
  it('no policy selecting the pod: admitted; a policy with no ingress rule: default deny', () => {
    assert.equal(ingressAdmits([], pod('x', {}), target, 80).admitted, 'yes');
    assert.equal(ingressAdmits([np('apps', { podSelector: {} })], pod('x', {}), target, 80).admitted, 'no');
    // Egress-only policies do not isolate for ingress.
    assert.equal(ingressAdmits([np('apps', { podSelector: {}, policyTypes: ['Egress'] })], pod('x', {}), target, 80).admitted, 'yes');
    // A policy of another namespace does not select the pod.
    assert.equal(ingressAdmits([np('other', { podSelector: {} })], pod('x', {}), target, 80).admitted, 'yes');
  });
  it('peers: podSelector alone is the own namespace, namespaceSelector alone every pod there, both the intersection', () => {
    const only = (peer: Record<string, unknown>) => [np('apps', { podSelector: {}, ingress: [{ from: [peer] }] })];
    assert.equal(ingressAdmits(only({ podSelector: {} }), pod('apps', {}), target, 80).admitted, 'yes');
    assert.equal(ingressAdmits(only({ podSelector: {} }), pod('x', {}), target, 80).admitted, 'no');
    const bySel = only({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } });
    assert.equal(ingressAdmits(bySel, pod('x', {}), target, 80).admitted, 'yes');
    assert.equal(ingressAdmits(bySel, pod('y', {}), target, 80).admitted, 'no');
    const both = only({ namespaceSelector: {}, podSelector: { matchLabels: { app: 'activator' } } });
    assert.equal(ingressAdmits(both, pod('y', { app: 'activator' }), target, 80).admitted, 'yes');
    assert.equal(ingressAdmits(both, pod('y', { app: 'other' }), target, 80).admitted, 'no');
    // A label the caller's known labels do not carry: undecided.
    assert.equal(ingressAdmits(both, pod('y', {}), target, 80).admitted, 'unknown');
  });
  it('ports: number, range (endPort), protocol, named port (undecided); every port needed vs a port list', () => {
    const withPorts = (ports: unknown[]) => [np('apps', { podSelector: {}, ingress: [{ ports }] })];
    assert.equal(ingressAdmits(withPorts([{ port: 8012 }]), pod('x', {}), target, 8012).admitted, 'yes');
    assert.equal(ingressAdmits(withPorts([{ port: 8012 }]), pod('x', {}), target, 9090).admitted, 'no');
    assert.equal(ingressAdmits(withPorts([{ port: 8000, endPort: 8100 }]), pod('x', {}), target, 8012).admitted, 'yes');
    assert.equal(ingressAdmits(withPorts([{ port: 8012, protocol: 'UDP' }]), pod('x', {}), target, 8012).admitted, 'no');
    assert.equal(ingressAdmits(withPorts([{ port: 'http' }]), pod('x', {}), target, 8012).admitted, 'unknown');
    assert.equal(ingressAdmits(withPorts([{ port: 8012 }]), pod('x', {}), target, undefined).admitted, 'unknown');
    assert.equal(ingressAdmits(withPorts([]), pod('x', {}), target, undefined).admitted, 'yes');
  });
  it('host-network and outside callers: only an ipBlock names them', () => {
    const anywhere: Caller = { anywhere: true };
    const from = (peer: Record<string, unknown>) => [np('apps', { podSelector: {}, ingress: [{ from: [peer] }] })];
    assert.equal(ingressAdmits(from({ namespaceSelector: {} }), anywhere, target, 8443).admitted, 'no');
    assert.equal(ingressAdmits(from({ ipBlock: { cidr: '0.0.0.0/0' } }), anywhere, target, 8443).admitted, 'yes');
    assert.equal(ingressAdmits(from({ ipBlock: { cidr: '10.0.0.0/8' } }), anywhere, target, 8443).admitted, 'unknown');
    assert.equal(ingressAdmits([np('apps', { podSelector: {}, ingress: [{}] })], anywhere, target, 8443).admitted, 'yes');
  });
  it('selectors: matchExpressions over complete and partial label sets', () => {
    const ns = known({ team: 'a' }, true);
    assert.equal(selects({ matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, ns), 'yes');
    assert.equal(selects({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, ns), 'no');
    assert.equal(selects({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, ns), 'yes');
    assert.equal(selects({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, ns), 'no');
    assert.equal(selects({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, known({ team: 'a' })), 'unknown');
    assert.equal(selects({}, known({})), 'yes');
  });
  it('a policy that may or may not select the pod leaves an otherwise refused connection undecided', () => {
    const maybe = np('apps', { podSelector: { matchLabels: { tier: 'front' } }, ingress: [{}] });
    const deny = np('apps', { podSelector: {} });
    assert.equal(ingressAdmits([deny, maybe], pod('x', {}), target, 80).admitted, 'unknown');
  });
});

const rule = RULES.find((r) => r.meta.name === 'network-policy-cuts-required-path')!;
const y = (objs: KubeObject[]) => objs.map((o) => emitYaml(o)).join('---\n');
const tenantNs = (name: string, tenant: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'serverlessmesh.dev/tenant': tenant } },
});
const KS: KubeObject = {
  apiVersion: 'operator.knative.dev/v1beta1',
  kind: 'KnativeServing',
  metadata: { name: 'knative-serving', namespace: 'knative-serving' },
  spec: {},
};
const defaultDeny = (ns: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: ns },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
});
const knativeIn = (ns: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'allow-knative', namespace: ns },
  spec: {
    podSelector: {},
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'knative-serving' } },
            podSelector: { matchLabels: { app: 'activator' } },
          },
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } },
            podSelector: { matchLabels: { knative: 'ingressgateway' } },
          },
        ],
        ports: [{ port: 8012 }, { port: 8013 }, { port: 8112 }],
      },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'knative-serving' } },
            podSelector: { matchLabels: { app: 'autoscaler' } },
          },
        ],
        ports: [{ port: 9090 }],
      },
    ],
  },
});
const withIngress = (p: KubeObject, f: (rules: unknown[]) => unknown[]): KubeObject => {
  const spec = p.spec as { ingress: unknown[] };
  return { ...p, spec: { ...spec, ingress: f(spec.ingress) } };
};
const ossm3Generate = parseSpec(
  'g.yaml',
  `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: np}
spec:
  mesh: {flavor: ossm3}
  domain: apps.example.com
  eventing: {enabled: true}
  kafka: {bootstrapServers: [my-cluster-kafka-bootstrap.kafka:9092]}
  networkPolicies: generate
  tenants:
    - {name: a, namespaces: [a-1, a-2]}
    - {name: b, namespaces: [b-1]}
`,
);

describe('SM2012 network-policy-cuts-required-path', () => {
  ruleTester(rule, {
    valid: [
      { name: 'ossm3 with networkPolicies: generate opens every required path', yaml: y(render(ossm3Generate, { tls: TEST_TLS })) },
      {
        name: 'default deny plus the activator, gateway and autoscaler admitted',
        yaml: y([KS, tenantNs('a-1', 'a'), defaultDeny('a-1'), knativeIn('a-1')]),
      },
      {
        name: 'a policy on pods only some labels pick: undecided, not reported',
        yaml: y([KS, tenantNs('a-1', 'a'), { ...defaultDeny('a-1'), spec: { podSelector: { matchLabels: { tier: 'db' } } } }]),
      },
      { name: 'Knative Serving absent: no serving path required', yaml: y([tenantNs('a-1', 'a'), defaultDeny('a-1')]) },
    ],
    invalid: [
      {
        name: 'default deny in a tenant namespace: revisions cut from activator, gateway and autoscaler',
        yaml: y([KS, tenantNs('a-1', 'a'), defaultDeny('a-1')]),
        errors: [{ resource: 'NetworkPolicy/a-1/default-deny' }, { resource: 'NetworkPolicy/a-1/default-deny' }],
      },
      {
        name: 'the generated set without allow-knative-to-revisions in a-1: the other a-1 policies isolate its pods',
        yaml: y(
          render(ossm3Generate, { tls: TEST_TLS }).filter(
            (o) => !(o.kind === 'NetworkPolicy' && o.metadata.namespace === 'a-1' && o.metadata.name === 'allow-knative-to-revisions'),
          ),
        ),
        errors: [{ resource: 'NetworkPolicy/a-1/allow-autoscaler-metrics' }],
      },
      {
        name: 'webhook admitted from pods only: the kube-apiserver (host network) is cut',
        yaml: y([
          KS,
          {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'pods-only', namespace: 'knative-serving' },
            spec: { podSelector: { matchLabels: { app: 'webhook' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] },
          },
        ]),
        errors: [{ resource: 'NetworkPolicy/knative-serving/pods-only', line: 15 }],
      },
    ],
  });
  it('the message names the callers and ports refused and the table row', () => {
    const [f] = findingsFor(
      rule,
      y([
        KS,
        tenantNs('a-1', 'a'),
        defaultDeny('a-1'),
        // the activator and gateway rule only: the autoscaler's metrics port stays shut
        withIngress(knativeIn('a-1'), (rules) => rules.slice(0, 1)),
      ]),
    );
    assert.ok(f, 'a finding');
    assert.match(f.message, /admit none of: knative-serving app=autoscaler \(port 9090\)/);
    assert.match(f.message, /row 10, allow-autoscaler-metrics/);
  });
});
