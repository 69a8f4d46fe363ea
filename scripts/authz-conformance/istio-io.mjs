// Hand translation of the istio.io authorization task pages
// (https://istio.io/latest/docs/tasks/security/authorization/…) into request sequences. The
// policies and the stated outcomes are read by gen-authz-conformance.mjs from each page's
// snips.sh (generated from the page: `kubectl apply` heredocs and the `…_out` blocks holding what
// the page says the command prints) or, for authz-http, whose checks are in a browser, from its
// test.sh `verify` lines. What is translated here: which sample workloads a command talks to and
// over which hops, and in which order the page applies its snips.
//
// The istio/istio.io snapshot is too large to mirror; these files were read at the commits given
// per task (stored copies, not necessarily the newest).

/** Workloads of the samples the pages deploy (samples/{sleep,curl,httpbin,tcp-echo,bookinfo}). */
export const apps = {
  sleep: { namespace: 'foo', serviceAccount: 'sleep', labels: { app: 'sleep' }, ip: '10.20.0.10' },
  curl: { namespace: 'default', serviceAccount: 'curl', labels: { app: 'curl' }, ip: '10.30.0.10' },
  // samples/httpbin/httpbin.yaml: Service port 8000 → targetPort 8080.
  httpbin: {
    namespace: 'foo',
    serviceAccount: 'httpbin',
    labels: { app: 'httpbin', version: 'v1' },
    ip: '10.20.0.11',
    service: 'httpbin.foo.svc.cluster.local',
    ports: { 8000: 8080 },
  },
  // samples/tcp-echo/tcp-echo.yaml: the Service declares 9000 and 9001 (tcp); the container also
  // listens on 9002, reachable only at the pod IP (inbound passthrough filter chain).
  'tcp-echo': {
    namespace: 'foo',
    serviceAccount: 'default',
    labels: { app: 'tcp-echo', version: 'v1' },
    ip: '10.20.0.12',
    service: 'tcp-echo.foo.svc.cluster.local',
    ports: { 9000: 9000, 9001: 9001 },
    protocol: 'tcp',
  },
  // Bookinfo (samples/bookinfo/platform/kube/bookinfo.yaml): every Service port 9080; test.sh routes reviews to v3 (calls ratings).
  productpage: bookinfo('productpage', 'v1', 11),
  details: bookinfo('details', 'v1', 12),
  reviews: bookinfo('reviews', 'v3', 13),
  ratings: bookinfo('ratings', 'v1', 14),
};
function bookinfo(name, version, n) {
  return {
    namespace: 'default',
    serviceAccount: `bookinfo-${name}`,
    labels: { app: name, version },
    ip: `10.30.0.${n}`,
    service: `${name}.default.svc.cluster.local`,
    ports: { 9080: 9080 },
  };
}

/** Gateways: the classic ingress gateway and the deployments istiod creates for Gateway API Gateways. */
export const gateways = {
  'istio-ingressgateway': {
    namespace: 'istio-system',
    serviceAccount: 'istio-ingressgateway-service-account',
    labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
    ip: '10.0.0.50',
    service: 'istio-ingressgateway.istio-system.svc.cluster.local',
    port: 8080,
    servicePort: 80,
  },
  'bookinfo-gateway': gatewayApi('bookinfo-gateway', 'default', '10.30.0.80'),
  'httpbin-gateway': gatewayApi('httpbin-gateway', 'foo', '10.20.0.80'),
};
function gatewayApi(name, namespace, ip) {
  return {
    namespace,
    serviceAccount: `${name}-istio`,
    labels: { 'gateway.networking.k8s.io/gateway-name': name, 'istio.io/gateway-name': name },
    ip,
    service: `${name}-istio.${namespace}.svc.cluster.local`,
    port: 80,
    servicePort: 80,
  };
}

const url = (task) => `https://istio.io/latest/docs/tasks/security/authorization/${task}/`;
const sleepToHttpbin = (path, extra = {}) => [{ from: 'sleep', to: 'httpbin', port: 8000, path, ...extra }];
const tcpEcho = (port, extra = {}) => [{ from: 'sleep', to: 'tcp-echo', port, ...extra }];
// `nc $TCP_ECHO_IP 9002`: the pod IP is in no Service, so the client sidecar forwards it through
// PassthroughCluster, without Istio mTLS.
const tcpEchoPodIp = (port) => tcpEcho(port, { podIp: true, transport: 'plaintext' });

/**
 * A task: `file` (snips.sh or test.sh under content/en/docs/tasks/security/authorization/<task>/),
 * the commit it was read at, and variants, each a sequence of steps: `apply` (a snip whose
 * heredoc objects are applied, replacing same-named ones), `check` (a snip whose `_out` states the
 * outcome; `cmd` must occur in the snip so a changed page fails generation), `verify` (a test.sh
 * line, with the hop chains each expected text stands for), `shadowCheck` (a snip printing
 * Envoy's shadow RBAC log for the requests `hops` describes).
 */
export const tasks = [
  {
    task: 'authz-http',
    url: url('authz-http'),
    file: 'snips.sh',
    verifyFile: 'test.sh',
    commit: { 'snips.sh': '49f71d8470d45204edfe4a8a95e5c6f50468e1b9', 'test.sh': '3cdcd236bef1412476d9c2478ca9e0bc72538d0e' },
    variants: ['istio-ingressgateway', 'bookinfo-gateway'].map((gw) => {
      const viaGw = (...rest) => [
        { from: 'curl', toGateway: gw, path: '/productpage' },
        { fromGateway: gw, to: 'productpage', port: 9080, path: '/productpage' },
        ...rest,
      ];
      const pp = (to) => ({ from: 'productpage', to, port: 9080, path: to === 'details' ? '/details/0' : '/reviews/0' });
      const ratings = { from: 'reviews', to: 'ratings', port: 9080, path: '/ratings/0' };
      const steps = [
        { apply: 'snip_configure_access_control_for_workloads_using_http_traffic_1' },
        {
          verify: 'verify 403 "RBAC: access denied"',
          cases: [{ text: 'RBAC: access denied', hops: viaGw(), expect: 'deny', status: 403 }],
        },
        { apply: 'snip_configure_access_control_for_workloads_using_http_traffic_2' },
        ...(gw === 'bookinfo-gateway' ? [{ apply: 'snip_bookinfo_gateway_viewer' }] : []),
        {
          verify: 'verify 200 "William Shakespeare" "Error fetching product details" "Error fetching product reviews"',
          cases: [
            { text: 'William Shakespeare', hops: viaGw(), expect: 'allow', status: 200 },
            { text: 'Error fetching product details', hops: viaGw(pp('details')), expect: 'deny' },
            { text: 'Error fetching product reviews', hops: viaGw(pp('reviews')), expect: 'deny' },
          ],
        },
        ...(gw === 'bookinfo-gateway'
          ? [
              {
                verify: 'METHOD=POST verify 403 "RBAC: access denied"',
                cases: [
                  {
                    text: 'RBAC: access denied',
                    hops: [{ from: 'curl', toGateway: gw, path: '/productpage', method: 'POST' }],
                    expect: 'deny',
                    status: 403,
                  },
                ],
              },
            ]
          : []),
        { apply: 'snip_configure_access_control_for_workloads_using_http_traffic_4' },
        { apply: 'snip_configure_access_control_for_workloads_using_http_traffic_5' },
        {
          verify: 'verify 200 "William Shakespeare" "PublisherA" "Ratings service is currently unavailable"',
          cases: [
            { text: 'PublisherA', hops: viaGw(pp('details')), expect: 'allow' },
            { text: 'Ratings service is currently unavailable', hops: viaGw(pp('reviews'), ratings), expect: 'deny' },
          ],
        },
        { apply: 'snip_configure_access_control_for_workloads_using_http_traffic_6' },
        {
          verify: 'verify 200 "William Shakespeare" "Book Details" "Book Reviews" "glyphicon glyphicon-star"',
          cases: [
            { text: 'Book Details', hops: viaGw(pp('details')), expect: 'allow' },
            { text: 'Book Reviews', hops: viaGw(pp('reviews')), expect: 'allow' },
            { text: 'glyphicon glyphicon-star', hops: viaGw(pp('reviews'), ratings), expect: 'allow' },
          ],
        },
      ];
      return { name: gw === 'bookinfo-gateway' ? 'gateway-api' : 'ingress-gateway', steps };
    }),
  },
  {
    task: 'authz-tcp',
    url: url('authz-tcp'),
    file: 'snips.sh',
    commit: { 'snips.sh': '1144ff0bfff4f591f2e706530df4b6e5e32f5811' },
    variants: [
      {
        name: 'page',
        steps: [
          { check: 'snip_before_you_begin_2', cmd: 'nc tcp-echo 9000', hops: tcpEcho(9000) },
          { check: 'snip_before_you_begin_3', cmd: 'nc tcp-echo 9001', hops: tcpEcho(9001) },
          { check: 'snip_before_you_begin_4', cmd: 'nc $TCP_ECHO_IP 9002', hops: tcpEchoPodIp(9002) },
          { apply: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_1' },
          { check: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_2', cmd: 'nc tcp-echo 9000', hops: tcpEcho(9000) },
          { check: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_3', cmd: 'nc tcp-echo 9001', hops: tcpEcho(9001) },
          {
            check: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_4',
            cmd: 'nc $TCP_ECHO_IP 9002',
            hops: tcpEchoPodIp(9002),
          },
          { apply: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_5' },
          { check: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_6', cmd: 'nc tcp-echo 9000', hops: tcpEcho(9000) },
          { check: 'snip_configure_allow_authorization_policy_for_a_tcp_workload_7', cmd: 'nc tcp-echo 9001', hops: tcpEcho(9001) },
          { apply: 'snip_configure_deny_authorization_policy_for_a_tcp_workload_1' },
          { check: 'snip_configure_deny_authorization_policy_for_a_tcp_workload_2', cmd: 'nc tcp-echo 9000', hops: tcpEcho(9000) },
          { check: 'snip_configure_deny_authorization_policy_for_a_tcp_workload_3', cmd: 'nc tcp-echo 9001', hops: tcpEcho(9001) },
          { apply: 'snip_configure_deny_authorization_policy_for_a_tcp_workload_4' },
          { check: 'snip_configure_deny_authorization_policy_for_a_tcp_workload_5', cmd: 'nc tcp-echo 9000', hops: tcpEcho(9000) },
          { check: 'snip_configure_deny_authorization_policy_for_a_tcp_workload_6', cmd: 'nc tcp-echo 9001', hops: tcpEcho(9001) },
        ],
      },
    ],
  },
  {
    task: 'authz-deny',
    url: url('authz-deny'),
    file: 'snips.sh',
    commit: { 'snips.sh': '1144ff0bfff4f591f2e706530df4b6e5e32f5811' },
    variants: [
      {
        name: 'page',
        steps: [
          { check: 'snip_before_you_begin_2', cmd: 'curl http://httpbin.foo:8000/ip', hops: sleepToHttpbin('/ip') },
          { apply: 'snip_explicitly_deny_a_request_1' },
          { check: 'snip_explicitly_deny_a_request_2', cmd: '"http://httpbin.foo:8000/get" -X GET', hops: sleepToHttpbin('/get') },
          {
            check: 'snip_explicitly_deny_a_request_3',
            cmd: '"http://httpbin.foo:8000/post" -X POST',
            hops: sleepToHttpbin('/post', { method: 'POST' }),
          },
          { apply: 'snip_explicitly_deny_a_request_4' },
          {
            check: 'snip_explicitly_deny_a_request_5',
            cmd: '/get" -X GET -H "x-token: admin"',
            hops: sleepToHttpbin('/get', { headers: { 'x-token': 'admin' } }),
          },
          {
            check: 'snip_explicitly_deny_a_request_6',
            cmd: '/get" -X GET -H "x-token: guest"',
            hops: sleepToHttpbin('/get', { headers: { 'x-token': 'guest' } }),
          },
          { apply: 'snip_explicitly_deny_a_request_7' },
          {
            check: 'snip_explicitly_deny_a_request_8',
            cmd: '/ip" -X GET -H "x-token: guest"',
            hops: sleepToHttpbin('/ip', { headers: { 'x-token': 'guest' } }),
          },
          {
            check: 'snip_explicitly_deny_a_request_9',
            cmd: '/ip" -X GET -H "x-token: admin"',
            hops: sleepToHttpbin('/ip', { headers: { 'x-token': 'admin' } }),
          },
          {
            check: 'snip_explicitly_deny_a_request_10',
            cmd: '/get" -X GET -H "x-token: admin"',
            hops: sleepToHttpbin('/get', { headers: { 'x-token': 'admin' } }),
          },
        ],
      },
    ],
  },
  {
    task: 'authz-jwt',
    url: url('authz-jwt'),
    file: 'snips.sh',
    commit: { 'snips.sh': '68f0f07545b2cf9fce3f25de6c5860c2f5e442c4' },
    // The shell variables the page fills from istio/istio's sample tokens (checked against the decoded payload the page prints).
    tokens: {
      TOKEN: { path: 'security/tools/jwt/samples/demo.jwt', printedBy: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_5' },
      TOKEN_GROUP: {
        path: 'security/tools/jwt/samples/groups-scope.jwt',
        printedBy: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_9',
      },
    },
    variants: [
      {
        name: 'page',
        steps: [
          { check: 'snip_before_you_begin_2', cmd: 'curl http://httpbin.foo:8000/ip', hops: sleepToHttpbin('/ip') },
          { apply: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_1' },
          {
            check: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_2',
            cmd: '-H "Authorization: Bearer invalidToken"',
            hops: sleepToHttpbin('/headers', { bearer: 'invalidToken' }),
          },
          {
            check: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_3',
            cmd: '"http://httpbin.foo:8000/headers" -sS -o /dev/null -w',
            hops: sleepToHttpbin('/headers'),
          },
          { apply: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_4' },
          {
            check: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_6',
            cmd: '-H "Authorization: Bearer $TOKEN"',
            hops: sleepToHttpbin('/headers', { bearer: '$TOKEN' }),
          },
          {
            check: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_7',
            cmd: '"http://httpbin.foo:8000/headers" -sS -o /dev/null -w',
            hops: sleepToHttpbin('/headers'),
          },
          { apply: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_8' },
          {
            check: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_10',
            cmd: '-H "Authorization: Bearer $TOKEN_GROUP"',
            hops: sleepToHttpbin('/headers', { bearer: '$TOKEN_GROUP' }),
          },
          {
            check: 'snip_allow_requests_with_valid_jwt_and_listtyped_claims_11',
            cmd: '-H "Authorization: Bearer $TOKEN"',
            hops: sleepToHttpbin('/headers', { bearer: '$TOKEN' }),
          },
        ],
      },
    ],
  },
  {
    task: 'authz-dry-run',
    url: url('authz-dry-run'),
    file: 'snips.sh',
    commit: { 'snips.sh': '1144ff0bfff4f591f2e706530df4b6e5e32f5811' },
    variants: [
      {
        name: 'page',
        steps: [
          { check: 'snip_before_you_begin_3', cmd: 'curl http://httpbin.foo:8000/ip', hops: sleepToHttpbin('/ip') },
          { apply: 'snip_create_dryrun_policy_1' },
          {
            check: 'snip_create_dryrun_policy_3',
            cmd: 'curl http://httpbin.foo:8000/headers -H "X-B3-Sampled: 1"',
            hops: sleepToHttpbin('/headers', { headers: { 'X-B3-Sampled': '1' } }),
          },
          // The page reads the proxy log of the requests above: "shadow denied, matched policy ns[…]-policy[…]-rule[…]".
          {
            shadowCheck: 'snip_check_dryrun_result_in_proxy_log_1',
            cmd: 'grep "shadow denied"',
            hops: sleepToHttpbin('/headers', { headers: { 'X-B3-Sampled': '1' } }),
          },
        ],
      },
    ],
  },
  {
    task: 'authz-ingress',
    url: url('authz-ingress'),
    file: 'snips.sh',
    commit: { 'snips.sh': '0de72af162ebc5764136fc91231045f3542aa183' },
    // "Network Load Balancer" section: externalTrafficPolicy: Local keeps the client IP as the
    // gateway's peer (no XFF, numTrustedProxies 0). The remoteIpBlocks variants also run behind
    // the "HTTP/HTTPS Load Balancer" the page configures with numTrustedProxies (read from its
    // IstioOperator snippet): the peer is the balancer, the client IP arrives in X-Forwarded-For.
    mesh: { numTrustedProxies: 0 },
    clientIp: { printedBy: 'snip_ipbased_allow_list_and_deny_list_6' },
    variants: [
      ['ingress-gateway/ipBlocks', 'istio-ingressgateway', [1, 10, 15]],
      ['ingress-gateway/remoteIpBlocks', 'istio-ingressgateway', [2, 11, 16]],
      ['gateway-api/ipBlocks', 'httpbin-gateway', [3, 12, 17]],
      ['gateway-api/remoteIpBlocks', 'httpbin-gateway', [4, 13, 18]],
      ['ingress-gateway/remoteIpBlocks/http-load-balancer', 'istio-ingressgateway', [2, 11, 16], 'snip_httphttps_load_balancer_1'],
      ['gateway-api/remoteIpBlocks/http-load-balancer', 'httpbin-gateway', [4, 13, 18], 'snip_httphttps_load_balancer_1'],
    ].map(([name, gw, [a, b, c], meshFrom]) => {
      const hops = [
        { fromClient: true, ...(meshFrom ? { viaLoadBalancer: '10.0.0.200' } : {}), toGateway: gw, path: '/headers' },
        { fromGateway: gw, to: 'httpbin', port: 8000, path: '/headers' },
      ];
      const snip = (n) => `snip_ipbased_allow_list_and_deny_list_${n}`;
      const curl = 'curl "$INGRESS_HOST:$INGRESS_PORT"/headers';
      return {
        name,
        ...(meshFrom ? { meshFrom } : {}),
        steps: [
          { check: 'snip_before_you_begin_7', cmd: curl, hops },
          { apply: snip(a) },
          { check: snip(5), cmd: curl, hops },
          { apply: snip(b) },
          { check: snip(14), cmd: curl, hops },
          { apply: snip(c) },
          { check: snip(19), cmd: curl, hops },
        ],
      };
    }),
  },
];
