// Hand translation of the Go *setup* code of Istio's authorization integration tests
// (tests/integration/security/authz_test.go at the pinned commit): which templates each test
// applies with which parameters, which echo instances call which, and what the Go `allow`
// variable means. The *rows* (paths, ports, hosts, expected allow) are parsed from the Go source
// by gen-authz-conformance.mjs; where a table is built by code rather than a literal, `rows`
// translates it here, each row with the Go line it comes from.
//
// Apps: Istio deploys a, b, c (plus headless, statefulset, tproxy, vm, sotw, naked, proxyless)
// in two injected namespaces. The simulator sees headless/tproxy/vm/sotw exactly like b and c
// (a sidecar with label app=<service>), so targets are b and c; naked and proxyless are excluded
// by newTrafficTest (match.NotNaked, match.NotProxylessGRPC).

const A1 = 'ns1/a';
const A2 = 'ns2/a';

export const tests = {
  TestAuthz_Principal: { templates: ['mtls', ['allow-principal', { Allowed: A1 }]], from: [A1, A2], to: ['ns1'], allow: (f) => f === A1 },
  TestAuthz_ServiceAccount: {
    templates: ['mtls', ['allow-serviceaccount', { Allowed: A1 }]],
    from: [A1, A2],
    to: ['ns1'],
    allow: (f) => f === A1,
  },
  TestAuthz_TrustDomain: { templates: ['mtls', 'allow-trust-domain'], from: [A1, A2], to: ['ns1'] },
  TestAuthz_DenyPrincipal: {
    templates: ['mtls', ['deny-global', { Namespace: 'system' }], ['deny-principal', { Denied: A2 }]],
    from: [A1, A2],
    to: ['ns1'],
    allow: (f) => f !== A2,
  },
  TestAuthz_Namespace: {
    templates: ['mtls', ['allow-namespace', { Allowed: A1 }]],
    from: [A1, A2],
    to: ['ns1', 'ns2'],
    allow: (f) => f.split('/')[0] === 'ns1',
  },
  TestAuthz_DenyNamespace: {
    templates: ['mtls', ['deny-global', { Namespace: 'system' }], ['deny-namespace', { Denied: A2 }]],
    from: [A1, A2],
    to: ['ns1', 'ns2'],
    allow: (f) => f.split('/')[0] === 'ns1',
  },
  TestAuthz_NotNamespace: {
    templates: ['mtls', ['not-namespace', { Allowed: A1 }]],
    from: [A1, A2],
    to: ['ns1'],
    allow: (f) => f.split('/')[0] === 'ns1',
    rows: [
      {
        line: 'newAuthzTest()...Allow(allow).BuildAndRunForPorts(t, ports.GRPC, ports.TCP, ports.HTTP, ports.HTTP2)',
        ports: ['grpc', 'tcp', 'http', 'http2'],
        allow: 'allow',
      },
    ],
  },
  TestAuthz_NotHost: { templates: ['not-host'], from: ['ingress'], to: ['ns1'], ingress: true },
  TestAuthz_NotMethod: { templates: ['not-method'], from: [A1], to: ['ns1', 'ns2'] },
  TestAuthz_NotPort: { templates: ['not-port'], from: [A1], to: ['ns1', 'ns2'] },
  TestAuthz_DenyPlaintext: {
    // Namespaces are in the file (param Namespace ""); FromMatch a in ns1 and ns2, ToMatch every ns1 service.
    templates: [['plaintext', { Denied: A2, Namespace: '' }]],
    from: [A1, A2],
    to: ['ns1'],
    toIncludesA: true,
    allow: (f) => f.split('/')[0] === 'ns1',
    rows: [
      {
        line: 'newAuthzTest()...Allow(allow).BuildAndRunForPorts(t, ports.GRPC, ports.TCP, ports.HTTP, ports.HTTP2)',
        ports: ['grpc', 'tcp', 'http', 'http2'],
        allow: 'allow',
      },
    ],
  },
  TestAuthz_JWT: { templates: [['jwt', { WithNamespace: 'ns1' }]], from: [A1], to: ['ns1'], defaultPorts: ['http', 'http2'] },
  TestAuthz_WorkloadSelector: {
    templates: [
      'workload',
      'workload-bad',
      ['workload-ns', { Namespace: 'ns1' }],
      ['workload-ns', { Namespace: 'ns2' }],
      ['workload-system-ns', { Namespace: 'system' }],
    ],
    from: [A1],
    to: ['ns1'],
    defaultPorts: ['http', 'http2'],
    // The table is built by code (authz_test.go "single workload" subtest); translated per target.
    rowsFor: (to, env) => {
      const other = to.service === 'b' ? 'c' : 'b';
      return [
        {
          line: 'path: fmt.Sprintf("/policy-%s-%s-bad", ...), allow: false',
          path: `/policy-${env.ns1.prefix}-${to.service}-bad`,
          allow: false,
        },
        {
          line: 'path: fmt.Sprintf("/policy-%s-%s-bad", ...), allow: true, updateLabel: true',
          path: `/policy-${env.ns1.prefix}-${to.service}-bad`,
          allow: true,
          extraLabels: { foo: 'bla' },
        },
        {
          line: 'cases = append(cases, testCase{path: fmt.Sprintf("/policy-%s-all", ns.Prefix()), allow: ns == to ns}) [ns1]',
          path: `/policy-${env.ns1.prefix}-all`,
          allow: to.ns === 'ns1',
        },
        {
          line: 'cases = append(cases, testCase{path: fmt.Sprintf("/policy-%s-all", ns.Prefix()), allow: ns == to ns}) [ns2]',
          path: `/policy-${env.ns2.prefix}-all`,
          allow: to.ns === 'ns2',
        },
        {
          line: 'testCase{path: fmt.Sprintf("/policy-%s-%s", to ns prefix, to service), allow: true}',
          path: `/policy-${env.ns1.prefix}-${to.service}`,
          allow: true,
        },
        {
          line: 'testCase{path: fmt.Sprintf("/policy-system-%s", to service), allow: true}',
          path: `/policy-system-${to.service}`,
          allow: true,
        },
        {
          line: 'testCase{path: fmt.Sprintf("/policy-%s-%s", other svc ...), allow: false}',
          path: `/policy-${env.ns1.prefix}-${other}`,
          allow: false,
        },
        {
          line: 'testCase{path: fmt.Sprintf("/policy-system-%s", other svc), allow: false}',
          path: `/policy-system-${other}`,
          allow: false,
        },
      ];
    },
  },
  TestAuthz_PathPrecedence: { templates: ['path-precedence'], from: [A1], to: ['ns1'], defaultPorts: ['http', 'http2'] },
  TestAuthz_PathTemplating: { templates: ['path-templating'], from: [A1], to: ['ns1'], defaultPorts: ['http', 'http2'] },
  TestAuthz_IngressGateway: {
    templates: [['ingress-gateway', { Namespace: '' }]],
    from: ['ingress'],
    to: ['ns1'],
    ingress: true,
    toIncludesA: true,
  },
  TestAuthz_EgressGateway: {
    templates: [['egress-gateway', { Namespace: '', Allowed: A1, From: 'from' }]],
    from: [A1, A2],
    to: ['ns1'],
    egress: true,
    allow: (f) => f === A1,
  },
  TestAuthz_Conditions: {
    templates: ['mtls', ['conditions', { Allowed: A1, Denied: A2 }]],
    from: [A1, A2],
    to: ['ns1'],
    allow: (f) => f === A1,
    defaultPorts: ['http'],
  },
  TestAuthz_PathNormalization: { templates: ['path-normalization'], from: [A1], to: ['ns1'], defaultPorts: ['http'] },
  TestAuthz_CustomServer: {
    // authzServer.Providers() + localAuthzServer.Providers(): HTTP and gRPC ext-authz providers.
    // Denied (ns2/b) is only a source for providers that support TCP (gRPC).
    templates: [['custom-provider', { Provider: 'provider' }]],
    to: ['ns1'],
    custom: true,
    providers: [
      { name: 'ext-authz-http', tcp: false },
      { name: 'ext-authz-grpc', tcp: true },
    ],
    fromFor: (p) => (p.tcp ? [A1, 'ns2/b'] : [A1]),
    vars: (f) => ({ fromAllowed: f === A1, authzPath: '/custom' }),
  },
};
