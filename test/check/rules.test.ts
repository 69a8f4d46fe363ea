// One table per rule: valid (no finding) and invalid cases asserting code, resource and line.
import { describe } from 'node:test';
import { RULES } from '../../src/check/registry.ts';
import { ruleTester } from './rule-tester.ts';

const rule = (name: string) => {
  const r = RULES.find((x) => x.meta.name === name);
  if (!r) throw new Error(`no rule ${name}`);
  return r;
};
/** Template literal without its first newline, so line 1 is the first YAML line. */
const y = (s: TemplateStringsArray, ...v: unknown[]) => String.raw({ raw: s }, ...v).replace(/^\n/, '');

const SMCP_OK = y`
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata:
  name: basic
  namespace: istio-system
spec:
  version: v2.6
  security:
    dataPlane:
      mtls: true
  techPreview:
    meshConfig:
      defaultConfig:
        terminationDrainDuration: 35s
  gateways:
    ingress:
      service:
        metadata:
          labels:
            knative: ingressgateway
  proxy:
    networking:
      trafficControl:
        inbound:
          excludedPorts: [8444, 8022]
`;
const SMMR = (members: string[]) => y`
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata:
  name: default
  namespace: istio-system
spec:
  members: [${members.join(', ')}]
`;
const KS = (extra = '') => y`
apiVersion: operator.knative.dev/v1beta1
kind: KnativeServing
metadata:
  name: knative-serving
  namespace: knative-serving
spec:
  ingress:
    istio:
      enabled: true
${extra}`;
const doc = (...d: string[]) => d.join('---\n');

describe('SM1001 gateway-wildcard-443-conflict', () => {
  const gw = (ns: string, port: number, host: string) => y`
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: other
  namespace: ${ns}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: ${port}, name: https, protocol: HTTPS}
    hosts: ["${host}"]
`;
  ruleTester(rule('gateway-wildcard-443-conflict'), {
    valid: [
      { name: 'Knative gateway in knative-serving', yaml: gw('knative-serving', 443, '*') },
      { name: 'another port', yaml: gw('apps', 8443, '*') },
      { name: 'a named host', yaml: gw('apps', 443, 'shop.example.com') },
      { name: 'gateway of another mesh instance', yaml: doc(SMMR(['knative-serving', 'knative-eventing']), gw('apps', 443, '*')) },
    ],
    invalid: [
      { name: 'wildcard on 443 elsewhere', yaml: gw('apps', 443, '*'), errors: [{ resource: 'Gateway/apps/other', line: 11 }] },
      {
        name: 'in a member namespace',
        yaml: doc(SMMR(['knative-serving', 'apps']), gw('apps', 443, '*')),
        errors: [{ resource: 'Gateway/apps/other', line: 19 }],
      },
    ],
  });
});

describe('SM1002 gateway-service-exposed', () => {
  const svc = (name: string, type: string) => y`
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: istio-system
spec:
  type: ${type}
`;
  ruleTester(rule('gateway-service-exposed'), {
    valid: [
      { name: 'ClusterIP', yaml: svc('istio-ingressgateway', 'ClusterIP') },
      { name: 'other Service as LoadBalancer', yaml: svc('shop', 'LoadBalancer') },
    ],
    invalid: [
      {
        name: 'LoadBalancer',
        yaml: svc('istio-ingressgateway', 'LoadBalancer'),
        errors: [{ resource: 'Service/istio-system/istio-ingressgateway', line: 7 }],
      },
      {
        name: 'NodePort local gateway',
        yaml: svc('knative-local-gateway', 'NodePort'),
        errors: [{ resource: 'Service/istio-system/knative-local-gateway', line: 7 }],
      },
    ],
  });
});

describe('SM1003–SM1007 control plane settings', () => {
  ruleTester(rule('smcp-mtls-disabled'), {
    valid: [
      { name: 'documented SMCP', yaml: SMCP_OK },
      { name: 'Kourier variant: knative-serving not a member', yaml: doc(SMCP_OK.replace('mtls: true', 'mtls: false'), SMMR(['apps'])) },
    ],
    invalid: [
      {
        name: 'mtls false',
        yaml: SMCP_OK.replace('mtls: true', 'mtls: false'),
        errors: [{ resource: 'ServiceMeshControlPlane/istio-system/basic', line: 10 }],
      },
    ],
  });
  ruleTester(rule('proxy-drain-too-short'), {
    valid: [
      { name: '35s', yaml: SMCP_OK },
      { name: '1m', yaml: SMCP_OK.replace('35s', '1m') },
    ],
    invalid: [
      { name: '30s', yaml: SMCP_OK.replace('35s', '30s'), errors: [{ resource: 'ServiceMeshControlPlane/istio-system/basic', line: 14 }] },
      {
        name: 'not set',
        yaml: SMCP_OK.replace('        terminationDrainDuration: 35s\n', '        {}\n'),
        errors: [{ resource: 'ServiceMeshControlPlane/istio-system/basic' }],
      },
    ],
  });
  ruleTester(rule('smcp-gateway-label-missing'), {
    valid: [{ name: 'label set', yaml: SMCP_OK }],
    invalid: [
      {
        name: 'other label',
        yaml: SMCP_OK.replace('knative: ingressgateway', 'app: gw'),
        errors: [{ resource: 'ServiceMeshControlPlane/istio-system/basic', line: 20 }],
      },
    ],
  });
  ruleTester(rule('inbound-ports-not-excluded'), {
    valid: [{ name: 'both excluded', yaml: SMCP_OK }],
    invalid: [
      {
        name: '8022 missing',
        yaml: SMCP_OK.replace('[8444, 8022]', '[8444]'),
        errors: [{ resource: 'ServiceMeshControlPlane/istio-system/basic', line: 25 }],
      },
      {
        name: 'Istio CR without exclusions',
        yaml: y`
apiVersion: sailoperator.io/v1
kind: Istio
metadata:
  name: default
spec:
  namespace: istio-system
  values:
    meshConfig:
      defaultConfig:
        terminationDrainDuration: 35s
`,
        errors: [{ resource: 'Istio/default' }],
      },
    ],
  });
  ruleTester(rule('mesh-version-unsupported'), {
    valid: [
      { name: 'v2.6', yaml: SMCP_OK },
      { name: 'no version', yaml: SMCP_OK.replace('  version: v2.6\n', '') },
    ],
    invalid: [
      {
        name: 'v2.1',
        yaml: SMCP_OK.replace('v2.6', 'v2.1'),
        errors: [{ resource: 'ServiceMeshControlPlane/istio-system/basic', line: 7 }],
      },
    ],
  });
});

describe('SM1008 network-policy-annotation-missing', () => {
  const smcp = SMCP_OK.replace('    dataPlane:', '    manageNetworkPolicy: false\n    dataPlane:');
  const annotated = KS().replace(
    '  namespace: knative-serving\n',
    '  namespace: knative-serving\n  annotations:\n    serverless.openshift.io/disable-istio-net-policies-generation: "true"\n',
  );
  ruleTester(rule('network-policy-annotation-missing'), {
    valid: [
      { name: 'manageNetworkPolicy default', yaml: doc(SMCP_OK, KS()) },
      { name: 'annotated', yaml: doc(smcp, annotated) },
    ],
    invalid: [
      { name: 'not annotated', yaml: doc(smcp, KS()), errors: [{ resource: 'KnativeServing/knative-serving/knative-serving', line: 31 }] },
    ],
  });
});

describe('SM2001 member-roll-missing-namespace', () => {
  const ksvc = (ns: string) => y`
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
  namespace: ${ns}
`;
  ruleTester(rule('member-roll-missing-namespace'), {
    valid: [
      { name: 'documented members', yaml: doc(SMMR(['knative-serving', 'knative-eventing', 'apps']), ksvc('apps')) },
      { name: 'Kourier variant', yaml: doc(SMMR(['apps']), ksvc('apps')) },
    ],
    invalid: [
      {
        name: 'no knative-eventing',
        yaml: SMMR(['knative-serving']),
        errors: [{ resource: 'ServiceMeshMemberRoll/istio-system/default', line: 7 }],
      },
      {
        name: 'ksvc namespace missing',
        yaml: doc(SMMR(['knative-serving', 'knative-eventing']), ksvc('apps')),
        errors: [{ resource: 'ServiceMeshMemberRoll/istio-system/default', line: 7 }],
      },
    ],
  });
});

describe('SM2002 knative-serving-not-istio', () => {
  ruleTester(rule('knative-serving-not-istio'), {
    valid: [
      { name: 'istio enabled', yaml: doc(SMMR(['knative-serving', 'knative-eventing']), KS()) },
      { name: 'no mesh objects', yaml: KS().replace('enabled: true', 'enabled: false') },
    ],
    invalid: [
      {
        name: 'kourier while knative-serving is a member',
        yaml: doc(SMMR(['knative-serving', 'knative-eventing']), KS().replace('enabled: true', 'enabled: false')),
        errors: [{ resource: 'KnativeServing/knative-serving/knative-serving', line: 16 }],
      },
    ],
  });
});

describe('SM2003 system-workloads-not-injected', () => {
  const injected = KS(y`
  workloads:
  - name: activator
    labels: {sidecar.istio.io/inject: "true"}
  - name: autoscaler
    annotations: {sidecar.istio.io/inject: "true"}
`);
  ruleTester(rule('system-workloads-not-injected'), {
    valid: [
      { name: 'both injected', yaml: doc(SMCP_OK, injected) },
      { name: 'label-injected flavour', yaml: KS(), options: { flavor: 'ossm3' } },
    ],
    invalid: [
      {
        name: 'autoscaler missing',
        yaml: doc(SMCP_OK, KS('  workloads:\n  - name: activator\n    labels: {sidecar.istio.io/inject: "true"}\n')),
        errors: [{ resource: 'KnativeServing/knative-serving/knative-serving', line: 37 }],
      },
    ],
  });
});

describe('SM2004 gateway-config-missing-service', () => {
  const ks = (host: string) => KS(`  config:\n    istio:\n      local-gateway.knative-serving.knative-local-gateway: ${host}\n`);
  const svc = y`
apiVersion: v1
kind: Service
metadata:
  name: knative-local-gateway
  namespace: mesh
`;
  ruleTester(rule('gateway-config-missing-service'), {
    valid: [
      { name: 'Service exists', yaml: doc(ks('knative-local-gateway.mesh.svc.cluster.local'), svc) },
      {
        name: 'control plane namespace, Services not given',
        yaml: doc(SMCP_OK, ks('knative-local-gateway.istio-system.svc.cluster.local')),
      },
    ],
    invalid: [
      {
        name: 'wrong namespace',
        yaml: doc(SMCP_OK, ks('knative-local-gateway.elsewhere.svc.cluster.local')),
        errors: [{ resource: 'KnativeServing/knative-serving/knative-serving', line: 38 }],
      },
    ],
  });
});

describe('SM2005 metrics-not-prometheus', () => {
  ruleTester(rule('metrics-not-prometheus'), {
    valid: [
      { name: 'prometheus', yaml: doc(SMCP_OK, KS('  config:\n    observability:\n      metrics.backend-destination: prometheus\n')) },
      { name: 'no mTLS', yaml: doc(SMCP_OK.replace('mtls: true', 'mtls: false'), KS()) },
    ],
    invalid: [
      { name: 'not set under mTLS', yaml: doc(SMCP_OK, KS()), errors: [{ resource: 'KnativeServing/knative-serving/knative-serving' }] },
    ],
  });
});

describe('SM2006 kafka-bootstrap-without-service-entry', () => {
  const kk = y`
apiVersion: operator.serverless.openshift.io/v1alpha1
kind: KnativeKafka
metadata:
  name: knative-kafka
  namespace: knative-eventing
spec:
  channel:
    enabled: true
    bootstrapServers: my-cluster-kafka-bootstrap.kafka:9092
`;
  const se = (port: number) => y`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: kafka-cluster
  namespace: knative-eventing
spec:
  hosts: [my-cluster-kafka-bootstrap.kafka]
  exportTo: ["."]
  ports:
  - {number: ${port}, name: tcp-plain, protocol: TCP}
`;
  ruleTester(rule('kafka-bootstrap-without-service-entry'), {
    valid: [{ name: 'ServiceEntry covers host and port', yaml: doc(kk, se(9092)) }],
    invalid: [
      { name: 'no ServiceEntry', yaml: kk, errors: [{ resource: 'KnativeKafka/knative-eventing/knative-kafka', line: 9 }] },
      { name: 'port not listed', yaml: doc(kk, se(9093)), errors: [{ resource: 'KnativeKafka/knative-eventing/knative-kafka', line: 9 }] },
    ],
  });
});

describe('SM2007 tls-secret-not-labelled', () => {
  const dm =
    'apiVersion: serving.knative.dev/v1beta1\nkind: DomainMapping\nmetadata:\n  name: shop.example.com\n  namespace: apps\nspec:\n  ref: {name: shop, kind: Service, apiVersion: serving.knative.dev/v1}\n  tls: {secretName: shop-tls}\n';
  const sec = (labels: string) =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-tls\n  namespace: apps\n  labels: {${labels}}\ntype: kubernetes.io/tls\n`;
  const gw =
    'apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n  name: knative-ingress-gateway\n  namespace: knative-serving\nspec:\n  selector: {knative: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, credentialName: wildcard-certs}\n';
  const wild = (labels: string) =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: wildcard-certs\n  namespace: istio-system\n  labels: {${labels}}\n`;
  const off = KS(
    '  workloads:\n  - name: net-istio-controller\n    env:\n    - container: controller\n      envVars:\n      - {name: ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID, value: "false"}\n',
  );
  ruleTester(rule('tls-secret-not-labelled'), {
    valid: [
      { name: 'labelled', yaml: doc(dm, sec('networking.internal.knative.dev/certificate-uid: "1"')) },
      { name: 'filtering off', yaml: doc(dm, sec(''), off) },
      { name: 'Secret not among the objects', yaml: dm },
    ],
    invalid: [
      { name: 'DomainMapping secret', yaml: doc(dm, sec('')), errors: [{ resource: 'Secret/apps/shop-tls', line: 13 }] },
      {
        name: 'Gateway credentialName in the gateway namespace',
        yaml: doc(SMCP_OK, gw, wild('')),
        errors: [{ resource: 'Secret/istio-system/wildcard-certs' }],
      },
    ],
  });
});

describe('SM2008 system-webhooks-injected', () => {
  const ks = (name: string, v: string) => KS(`  workloads:\n  - name: ${name}\n    labels: {sidecar.istio.io/inject: "${v}"}\n`);
  ruleTester(rule('system-webhooks-injected'), {
    valid: [
      { name: 'activator injected', yaml: doc(SMCP_OK, ks('activator', 'true')) },
      { name: 'webhook opted out', yaml: doc(SMCP_OK, ks('webhook', 'false')) },
      { name: 'webhook injected without STRICT', yaml: doc(SMCP_OK.replace('mtls: true', 'mtls: false'), ks('webhook', 'true')) },
    ],
    invalid: [
      {
        name: 'net-istio-controller injected under STRICT',
        yaml: doc(SMCP_OK, ks('net-istio-controller', 'true')),
        errors: [{ resource: 'KnativeServing/knative-serving/knative-serving', line: 37 }],
      },
    ],
  });
});

describe('SM2009 serverless-in-several-meshes', () => {
  const roll = (ns: string) => SMMR(['knative-serving', 'knative-eventing']).replace('namespace: istio-system', `namespace: ${ns}`);
  ruleTester(rule('serverless-in-several-meshes'), {
    valid: [
      { name: 'one roll', yaml: roll('istio-system') },
      {
        name: 'another mesh without Knative',
        yaml: doc(roll('istio-system'), SMMR(['apps']).replace('namespace: istio-system', 'namespace: mesh-b')),
      },
    ],
    invalid: [
      {
        name: 'two rolls claim knative-serving',
        yaml: doc(roll('istio-system'), roll('mesh-b')),
        errors: [
          { resource: 'ServiceMeshMemberRoll/istio-system/default', line: 7 },
          { resource: 'ServiceMeshMemberRoll/mesh-b/default', line: 15 },
        ],
      },
    ],
  });
});

describe('SM3001–SM3004 Knative Services in the mesh', () => {
  const ksvc = (ann: string, tmplLabels: string, tmplAnn: string) => y`
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
  namespace: apps
  annotations: {${ann}}
spec:
  template:
    metadata:
      labels: {${tmplLabels}}
      annotations: {${tmplAnn}}
`;
  const good = ksvc(
    'serving.knative.openshift.io/enablePassthrough: "true"',
    'sidecar.istio.io/inject: "true"',
    'sidecar.istio.io/rewriteAppHTTPProbers: "true"',
  );
  const mesh = (k: string) => doc(SMMR(['knative-serving', 'knative-eventing', 'apps']), k);
  ruleTester(rule('ksvc-passthrough-missing'), {
    valid: [
      { name: 'annotated', yaml: mesh(good) },
      { name: 'namespace not in the mesh', yaml: doc(SMMR(['knative-serving']), ksvc('', '', '')) },
    ],
    invalid: [
      {
        name: 'missing',
        yaml: mesh(ksvc('', 'sidecar.istio.io/inject: "true"', '')),
        errors: [{ resource: 'Service/apps/hello', line: 14 }],
      },
    ],
  });
  ruleTester(rule('ksvc-not-injected'), {
    valid: [
      { name: 'label', yaml: mesh(good) },
      { name: 'label-injected flavour, no opt-out', yaml: ksvc('', '', ''), options: { flavor: 'ossm3' } },
    ],
    invalid: [
      { name: 'no label on OSSM 2', yaml: mesh(ksvc('', '', '')), errors: [{ resource: 'Service/apps/hello', line: 18 }] },
      {
        name: 'opt-out in an injection-labelled namespace',
        yaml: doc(
          'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels: {istio-injection: enabled}\n',
          ksvc('', 'sidecar.istio.io/inject: "false"', ''),
        ),
        options: { flavor: 'ossm3' },
        errors: [{ resource: 'Service/apps/hello', line: 16 }],
      },
    ],
  });
  ruleTester(rule('ksvc-probe-rewrite-missing'), {
    valid: [
      { name: 'annotated', yaml: mesh(good) },
      {
        name: 'flavour rewrites by default',
        yaml: doc('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels: {istio-injection: enabled}\n', ksvc('', '', '')),
        options: { flavor: 'ossm3' },
      },
    ],
    invalid: [
      {
        name: 'missing on OSSM 2',
        yaml: mesh(ksvc('', 'sidecar.istio.io/inject: "true"', '')),
        errors: [{ resource: 'Service/apps/hello', line: 18 }],
      },
    ],
  });
  ruleTester(rule('inject-annotation-deprecated'), {
    valid: [{ name: 'label form', yaml: good }],
    invalid: [
      {
        name: 'annotation form',
        yaml: ksvc('', '', 'sidecar.istio.io/inject: "true"'),
        errors: [{ resource: 'Service/apps/hello', line: 11 }],
      },
    ],
  });
});

describe('SM3005–SM3007 OSSM 3', () => {
  const istio = y`
apiVersion: sailoperator.io/v1
kind: Istio
metadata:
  name: default
spec:
  namespace: istio-system
`;
  const cni = 'apiVersion: sailoperator.io/v1\nkind: IstioCNI\nmetadata:\n  name: default\nspec:\n  namespace: istio-cni\n';
  const strict =
    'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls: {mode: STRICT}\n';
  const ns = (name: string, l: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: {${l}}\n`;
  ruleTester(rule('namespace-not-injected'), {
    valid: [
      { name: 'labelled', yaml: doc(istio, ns('knative-serving', 'istio-injection: enabled'), ns('apps', 'istio.io/rev: blue')) },
      { name: 'unrelated namespace', yaml: doc(istio, ns('tools', '')) },
      { name: 'OSSM 2 joins by member roll', yaml: doc(SMCP_OK, ns('knative-serving', '')) },
    ],
    invalid: [
      {
        name: 'knative-serving unlabelled',
        yaml: doc(istio, ns('knative-serving', '')),
        errors: [{ resource: 'Namespace/knative-serving', line: 12 }],
      },
    ],
  });
  ruleTester(rule('control-plane-incomplete'), {
    valid: [
      { name: 'Istio and IstioCNI', yaml: doc(istio, cni) },
      { name: 'OSSM 2', yaml: SMCP_OK },
    ],
    invalid: [{ name: 'no IstioCNI', yaml: istio, errors: [{ resource: 'Istio/default' }] }],
  });
  ruleTester(rule('strict-peer-authentication-missing'), {
    valid: [{ name: 'STRICT in root', yaml: doc(istio, strict) }],
    invalid: [
      { name: 'none', yaml: istio, errors: [{ resource: 'Istio/default' }] },
      { name: 'PERMISSIVE', yaml: doc(istio, strict.replace('STRICT', 'PERMISSIVE')), errors: [{ resource: 'Istio/default' }] },
    ],
  });
});

describe('SM4001–SM4004 authorization', () => {
  const tenantNs = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t1\n  labels: {serverlessmesh.dev/tenant: alpha}\n';
  const ap = (ns: string, body: string) =>
    `apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: p\n  namespace: ${ns}\nspec:\n${body}`;
  ruleTester(rule('tenant-without-allow-policy'), {
    valid: [
      {
        name: 'ALLOW in the namespace',
        yaml: doc(tenantNs, ap('t1', '  action: ALLOW\n  rules:\n  - from:\n    - source: {namespaces: [t1]}\n')),
      },
    ],
    invalid: [
      {
        name: 'only DENY',
        yaml: doc(tenantNs, ap('t1', '  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: [t2]}\n')),
        errors: [{ resource: 'Namespace/t1' }],
      },
    ],
  });
  const custom = (provider: string) =>
    ap('apps', `  action: CUSTOM\n  provider:\n    name: ${provider}\n  rules:\n  - to:\n    - operation: {paths: [/admin]}\n`);
  const smcpWith = (providers: string) =>
    `apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata:\n  name: basic\n  namespace: istio-system\nspec:\n  version: v2.6\n${providers}`;
  const grpcProvider =
    '  meshConfig:\n    extensionProviders:\n    - name: opa\n      envoyExtAuthzGrpc: {service: opa.opa.svc.cluster.local, port: 9191}\n';
  const istioCm = (providers: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n${providers}`;
  ruleTester(rule('custom-provider-undefined'), {
    valid: [
      { name: 'provider defined in the SMCP meshConfig', yaml: doc(smcpWith(grpcProvider), custom('opa')) },
      {
        name: 'provider defined in the istio ConfigMap',
        yaml: doc(
          istioCm('    extensionProviders:\n    - name: authz-http\n      envoyExtAuthzHttp: {service: a.b.svc, port: 8000}\n'),
          custom('authz-http'),
        ),
      },
      { name: 'no mesh config among the inputs: undecidable, no finding', yaml: custom('opa') },
      {
        name: 'not a CUSTOM policy',
        yaml: doc(smcpWith(''), ap('apps', '  action: DENY\n  rules:\n  - to:\n    - operation: {paths: [/x]}\n')),
      },
    ],
    invalid: [
      {
        name: 'typo in the provider name',
        yaml: doc(smcpWith(grpcProvider), custom('opa-typo')),
        errors: [{ resource: 'AuthorizationPolicy/apps/p', line: 21 }],
      },
      {
        name: 'SMCP with no meshConfig defines no provider',
        yaml: doc(smcpWith(''), custom('opa')),
        errors: [{ resource: 'AuthorizationPolicy/apps/p' }],
      },
      {
        name: 'a tracing provider cannot serve CUSTOM',
        yaml: doc(istioCm('    extensionProviders:\n    - name: opa\n      zipkin: {service: z.svc, port: 9411}\n'), custom('opa')),
        errors: [{ resource: 'AuthorizationPolicy/apps/p' }],
      },
    ],
  });
  const tcpSvc =
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: data\nspec:\n  ports:\n  - {name: tcp-db, port: 5432, targetPort: 5432}\n';
  ruleTester(rule('http-fields-on-tcp-port'), {
    valid: [
      { name: 'L4 fields only', yaml: doc(tcpSvc, ap('data', '  rules:\n  - to:\n    - operation: {ports: ["5432"]}\n')) },
      {
        name: 'HTTP port',
        yaml: doc(
          tcpSvc.replace('tcp-db', 'http-db'),
          ap('data', '  rules:\n  - to:\n    - operation: {ports: ["5432"], methods: [GET]}\n'),
        ),
      },
    ],
    invalid: [
      {
        name: 'methods on TCP port',
        yaml: doc(tcpSvc, ap('data', '  rules:\n  - to:\n    - operation: {ports: ["5432"], methods: [GET]}\n')),
        errors: [{ resource: 'AuthorizationPolicy/data/p', line: 17 }],
      },
    ],
  });
  ruleTester(rule('host-without-port-form'), {
    valid: [
      { name: 'both forms', yaml: ap('apps', '  rules:\n  - to:\n    - operation: {hosts: [a.example.com, "a.example.com:*"]}\n') },
      { name: 'suffix wildcard', yaml: ap('apps', '  rules:\n  - to:\n    - operation: {hosts: ["*.apps"]}\n') },
    ],
    invalid: [
      {
        name: 'exact host only',
        yaml: ap('apps', '  rules:\n  - to:\n    - operation:\n        hosts: [a.example.com]\n'),
        errors: [{ resource: 'AuthorizationPolicy/apps/p', line: 10 }],
      },
    ],
  });
});

describe('SM5001–SM5003 through the authorization simulator', () => {
  const ns = (name: string, tenant: string) =>
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels: {serverlessmesh.dev/tenant: ${tenant}}\n`;
  const ap = (n: string, name: string, body: string) =>
    `apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${n}\nspec:\n${body}`;
  /** The tenant's own namespace and Knative (activator, gateway) in; PreStop 8022 from anyone. */
  const own = (n: string, sources = `${n}, knative-serving, knative-serving-ingress`) =>
    ap(n, 'own', `  rules:\n  - from:\n    - source: {namespaces: [${sources}]}\n  - to:\n    - operation: {ports: ["8022"]}\n`);
  /** At the activator, each tenant only for its own hosts (the chart's allow-<tenant>-to-activator). */
  const activator = ap(
    'knative-serving',
    'activator',
    `  selector: {matchLabels: {app.kubernetes.io/component: activator}}\n  rules:\n  - from: [{source: {namespaces: [a]}}]\n    to: [{operation: {hosts: ["*.a.svc.cluster.local"]}}]\n  - from: [{source: {namespaces: [b]}}]\n    to: [{operation: {hosts: ["*.b.svc.cluster.local"]}}]\n  - from: [{source: {namespaces: [knative-serving-ingress]}}]\n`,
  );
  const isolated = [ns('a', 'ta'), ns('b', 'tb'), own('a'), own('b'), activator];
  ruleTester(rule('cross-tenant-leak'), {
    valid: [{ name: 'each tenant admits only itself and Knative; the activator decides by Host', yaml: doc(...isolated) }],
    invalid: [
      {
        name: 'tenant b admits everyone at its pods',
        yaml: doc(ns('a', 'ta'), ns('b', 'tb'), own('a'), own('b', '"*"'), activator),
        // direct, and local-gateway with the activator out of path
        errors: [{ resource: 'Namespace/b' }, { resource: 'Namespace/b' }],
      },
      {
        name: 'no Host rule at the activator: every tenant gets in through it',
        yaml: doc(ns('a', 'ta'), ns('b', 'tb'), own('a'), own('b')),
        errors: [{ resource: 'Namespace/a' }, { resource: 'Namespace/a' }, { resource: 'Namespace/b' }, { resource: 'Namespace/b' }],
      },
    ],
  });
  ruleTester(rule('same-tenant-refused'), {
    valid: [{ name: 'isolated tenants reach themselves', yaml: doc(...isolated) }],
    invalid: [
      {
        name: 'a tenant namespace that admits only Knative',
        yaml: doc(ns('a', 'ta'), ns('b', 'tb'), own('a', 'knative-serving, knative-serving-ingress'), own('b'), activator),
        errors: [{ resource: 'Namespace/a' }, { resource: 'Namespace/a' }],
      },
    ],
  });
  ruleTester(rule('required-edge-blocked'), {
    valid: [{ name: 'Knative admitted, 8022 open', yaml: doc(...isolated) }],
    invalid: [
      {
        name: 'a policy admitting only the tenant locks out activator, autoscaler, PreStop and the ingress prober',
        yaml: doc(ns('a', 'ta'), ap('a', 'own', '  rules:\n  - from:\n    - source: {namespaces: [a]}\n')),
        errors: Array.from({ length: 7 }, () => ({ resource: 'AuthorizationPolicy/a/own' })),
      },
    ],
  });
});

describe('SM6001 namespace-app-label-overridden', () => {
  const ns = (l: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {${l}}\n`;
  const ksvc = (l: string) =>
    `apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    metadata:\n      labels: {${l}}\n`;
  ruleTester(rule('namespace-app-label-overridden'), {
    valid: [
      { name: 'no app label on the namespace', yaml: doc(ns('team: x'), ksvc('')) },
      { name: 'the template sets app', yaml: doc(ns('app: my-domain'), ksvc('app: my-domain')) },
    ],
    invalid: [
      {
        name: 'namespace app label, ksvc without one',
        yaml: doc(ns('app: my-domain'), ksvc('')),
        errors: [{ resource: 'Namespace/shop', line: 5 }],
      },
    ],
  });
});

describe('SM2010 kourier-member-network-policy-missing', () => {
  const np = (ns: string, sel: string) =>
    `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-from-serving-system-namespace\n  namespace: ${ns}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels: {${sel}}\n`;
  ruleTester(rule('kourier-member-network-policy-missing'), {
    valid: [
      { name: 'the documented policy', yaml: doc(SMMR(['apps']), np('apps', 'knative.openshift.io/part-of: openshift-serverless')) },
      { name: 'Knative in the mesh (not the Kourier variant)', yaml: SMMR(['knative-serving', 'knative-eventing', 'apps']) },
      {
        name: 'manageNetworkPolicy false',
        yaml: doc(SMCP_OK.replace('    dataPlane:', '    manageNetworkPolicy: false\n    dataPlane:'), SMMR(['apps'])),
      },
    ],
    invalid: [
      { name: 'no policy', yaml: SMMR(['apps']), errors: [{ resource: 'ServiceMeshMemberRoll/istio-system/default', line: 7 }] },
      {
        name: 'policy for another label',
        yaml: doc(SMMR(['apps']), np('apps', 'team: x')),
        errors: [{ resource: 'ServiceMeshMemberRoll/istio-system/default', line: 7 }],
      },
    ],
  });
});
