// The 30 test vectors of research/istio-semantics.md §7, re-expressed as a table. Conventions:
// namespaces ns1/ns2, workloads a..e with SA = name and label app=<name>, every pod injected,
// mesh-wide STRICT unless a vector says otherwise. Ports: 8090/8091 http, 8092/8093 tcp.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRequest } from '../../src/authz/evaluate.ts';
import { securityConfigFrom } from '../../src/authz/parse.ts';
import { DEFAULT_MESH, type AuthzRequest, type Decision } from '../../src/authz/types.ts';
import type { KubeObject } from '../../src/util/kube.ts';

const AP = (namespace: string, name: string, spec: Record<string, unknown>, apiVersion = 'security.istio.io/v1'): KubeObject => ({
  apiVersion,
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace },
  spec,
});
const PA = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'PeerAuthentication',
  metadata: { name, namespace },
  spec,
});
const DR = (namespace: string, name: string, host: string, mode: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace },
  spec: { host, trafficPolicy: { tls: { mode } } },
});
const STRICT = PA('istio-system', 'default', { mtls: { mode: 'STRICT' } });
const on = (app: string) => ({ matchLabels: { app } });

interface Req {
  from?: string; // ns/sa
  noSidecar?: boolean;
  to: string; // ns/app
  port?: number;
  tcp?: boolean;
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  remoteIp?: string;
}
function req(r: Req): AuthzRequest {
  const [sns, ssa] = (r.from ?? 'ns1/a').split('/');
  const [dns, app] = r.to.split('/');
  const port = r.port ?? (r.tcp ? 8092 : 8090);
  return {
    source: { namespace: sns, serviceAccount: ssa, sidecar: !r.noSidecar },
    destination: {
      namespace: dns!,
      labels: { app: app! },
      port,
      protocol: r.tcp ? 'tcp' : 'http',
      sidecar: true,
      service: `${app}.${dns}.svc.cluster.local`,
    },
    method: r.tcp ? undefined : (r.method ?? 'GET'),
    path: r.tcp ? undefined : (r.path ?? '/'),
    host: r.tcp ? undefined : (r.host ?? `${app}.${dns}.svc.cluster.local`),
    headers: r.headers ?? {},
    remoteIp: r.remoteIp,
  };
}

type Case = [label: string, r: Req, decision: Decision, policy: string | null, rule?: number | null];
interface Vector {
  id: string;
  objects: KubeObject[];
  cases: Case[];
}

const V1_POLICY = AP('ns1', 'allow-principal', {
  selector: on('b'),
  rules: [
    {
      to: [{ operation: { ports: ['8090', '8091'], paths: ['/allow'], methods: ['GET'] } }],
      from: [{ source: { principals: ['cluster.local/ns/ns1/sa/a'] } }],
    },
    { to: [{ operation: { ports: ['8092'] } }], from: [{ source: { principals: ['cluster.local/ns/ns1/sa/a'] } }] },
  ],
});
const V6_POLICIES = [
  AP('ns1', 'deny-principal', {
    action: 'DENY',
    selector: on('b'),
    rules: [
      {
        to: [{ operation: { ports: ['8090', '8091'], paths: ['/deny*'], notPaths: ['/deny/allow'], methods: ['GET'] } }],
        from: [{ source: { principals: ['cluster.local/ns/ns2/sa/a'] } }],
      },
    ],
  }),
  AP('istio-system', 'global-deny', {
    action: 'DENY',
    rules: [{ to: [{ operation: { ports: ['8090', '8091'], paths: ['/global-deny*'], notPaths: ['/global-deny/allow'] } }] }],
  }),
];
const V15_POLICY = AP('ns1', 'deny-c', {
  action: 'DENY',
  selector: on('c'),
  rules: [
    { to: [{ operation: { ports: ['8090'] } }] },
    { to: [{ operation: { ports: ['8093'] } }], from: [{ source: { principals: ['*/ns/ns1/sa/b'] } }] },
    { to: [{ operation: { ports: ['8092'] } }], from: [{ source: { namespaces: ['*ns2'] } }] },
  ],
});
const V28 = (namespaces: string[]) => [STRICT, AP('app', 'allow-ns', { rules: [{ from: [{ source: { namespaces } }] }] })];

const vectors: Vector[] = [
  { id: 'V1', objects: [STRICT, V1_POLICY], cases: [['GET /allow', { to: 'ns1/b', path: '/allow' }, 'ALLOW', 'ns1/allow-principal', 0]] },
  {
    id: 'V2',
    objects: [STRICT, V1_POLICY],
    cases: [['query ignored', { to: 'ns1/b', path: '/allow?param=value' }, 'ALLOW', 'ns1/allow-principal', 0]],
  },
  { id: 'V3', objects: [STRICT, V1_POLICY], cases: [['GET /deny', { to: 'ns1/b', path: '/deny' }, 'DENY', null, null]] },
  {
    id: 'V4',
    objects: [STRICT, V1_POLICY],
    cases: [
      ['ns2/a http', { from: 'ns2/a', to: 'ns1/b', path: '/allow' }, 'DENY', null],
      ['ns2/a tcp', { from: 'ns2/a', to: 'ns1/b', tcp: true }, 'DENY', null],
    ],
  },
  // rule0 is dropped on TCP (HTTP-only fields in an ALLOW rule); rule1 still allows.
  { id: 'V5', objects: [STRICT, V1_POLICY], cases: [['tcp', { to: 'ns1/b', tcp: true }, 'ALLOW', 'ns1/allow-principal', 1]] },
  {
    id: 'V6',
    objects: [STRICT, ...V6_POLICIES],
    cases: [
      ['ns2/a GET /deny', { from: 'ns2/a', to: 'ns1/b', path: '/deny' }, 'DENY', 'ns1/deny-principal', 0],
      ['ns2/a GET /deny/allow', { from: 'ns2/a', to: 'ns1/b', path: '/deny/allow' }, 'ALLOW', null],
      ['ns1/a GET /deny', { to: 'ns1/b', path: '/deny' }, 'ALLOW', null],
    ],
  },
  {
    id: 'V7',
    objects: [STRICT, ...V6_POLICIES],
    cases: [
      ['/global-deny', { from: 'ns2/c', to: 'ns1/b', path: '/global-deny' }, 'DENY', 'istio-system/global-deny', 0],
      ['/global-deny/allow', { from: 'ns2/c', to: 'ns1/b', path: '/global-deny/allow' }, 'ALLOW', null],
      ['/allow', { from: 'ns2/c', to: 'ns1/b', path: '/allow' }, 'ALLOW', null],
      ['root policy applies in ns2 too', { to: 'ns2/d', path: '/global-deny' }, 'DENY', 'istio-system/global-deny', 0],
    ],
  },
  {
    id: 'V8',
    objects: [
      PA('ns1', 'default', { mtls: { mode: 'PERMISSIVE' } }),
      DR('ns1', 'mtls', '*.ns1.svc.cluster.local', 'ISTIO_MUTUAL'),
      AP('ns1', 'deny-plaintext', { action: 'DENY', selector: on('b'), rules: [{ from: [{ source: { notPrincipals: ['*'] } }] }] }),
      DR('ns2', 'plaintext', 'b.ns1.svc.cluster.local', 'DISABLE'),
    ],
    cases: [
      ['ns1/a http', { to: 'ns1/b' }, 'ALLOW', null],
      ['ns1/a tcp', { to: 'ns1/b', tcp: true }, 'ALLOW', null],
      ['ns2/a http plaintext', { from: 'ns2/a', to: 'ns1/b' }, 'DENY', 'ns1/deny-plaintext', 0],
      [
        'ns2/a grpc plaintext',
        { from: 'ns2/a', to: 'ns1/b', port: 8091, method: 'POST', path: '/pkg.Svc/M' },
        'DENY',
        'ns1/deny-plaintext',
        0,
      ],
      ['ns2/a tcp plaintext', { from: 'ns2/a', to: 'ns1/b', tcp: true }, 'DENY', 'ns1/deny-plaintext', 0],
    ],
  },
  {
    id: 'V9',
    objects: [
      STRICT,
      AP('ns1', 'allow-ns', {
        selector: on('b'),
        rules: [{ from: [{ source: { namespaces: ['ns1'] } }], to: [{ operation: { ports: ['8090', '8091', '8092'] } }] }],
      }),
    ],
    cases: [
      ['ns1 http', { to: 'ns1/b', path: '/allow' }, 'ALLOW', 'ns1/allow-ns', 0],
      ['ns1 tcp', { to: 'ns1/b', tcp: true }, 'ALLOW', 'ns1/allow-ns', 0],
      ['ns2 http', { from: 'ns2/a', to: 'ns1/b' }, 'DENY', null],
    ],
  },
  {
    id: 'V10',
    objects: [
      STRICT,
      AP('ns1', 'not-ns', { action: 'DENY', selector: on('b'), rules: [{ from: [{ source: { notNamespaces: ['ns1'] } }] }] }),
    ],
    cases: [
      ['ns1 http', { to: 'ns1/b' }, 'ALLOW', null],
      ['ns1 tcp', { to: 'ns1/b', tcp: true }, 'ALLOW', null],
      ['ns2 http', { from: 'ns2/a', to: 'ns1/b' }, 'DENY', 'ns1/not-ns', 0],
      ['ns2 tcp', { from: 'ns2/a', to: 'ns1/b', tcp: true }, 'DENY', 'ns1/not-ns', 0],
    ],
  },
  {
    id: 'V11',
    objects: [STRICT, AP('ns1', 'not-method', { selector: on('b'), rules: [{ to: [{ operation: { notMethods: ['PUT'] } }] }] })],
    cases: [
      ['GET', { to: 'ns1/b' }, 'ALLOW', 'ns1/not-method', 0],
      ['PUT', { to: 'ns1/b', method: 'PUT' }, 'DENY', null],
    ],
  },
  {
    id: 'V12',
    objects: [STRICT, AP('ns1', 'not-port', { selector: on('b'), rules: [{ to: [{ operation: { notPorts: ['8091'] } }] }] })],
    cases: [
      ['http', { to: 'ns1/b' }, 'ALLOW', 'ns1/not-port', 0],
      ['http2', { to: 'ns1/b', port: 8091 }, 'DENY', null],
    ],
  },
  {
    id: 'V13',
    objects: [
      STRICT,
      AP('ns1', 'deny-admin', { action: 'DENY', selector: on('b'), rules: [{ to: [{ operation: { paths: ['/allow/admin'] } }] }] }),
      AP('ns1', 'allow-prefix', { selector: on('b'), rules: [{ to: [{ operation: { paths: ['/allow*'] } }] }] }),
    ],
    cases: [
      ['/allow/admin', { to: 'ns1/b', path: '/allow/admin' }, 'DENY', 'ns1/deny-admin', 0],
      ['/allow', { to: 'ns1/b', path: '/allow' }, 'ALLOW', 'ns1/allow-prefix', 0],
      ['/allow?param=value', { to: 'ns1/b', path: '/allow?param=value' }, 'ALLOW', 'ns1/allow-prefix', 0],
      ['/other', { to: 'ns1/b', path: '/other' }, 'DENY', null],
    ],
  },
  {
    id: 'V14',
    objects: [
      STRICT,
      AP('ns1', 'deny-data', {
        action: 'DENY',
        selector: on('b'),
        rules: [{ to: [{ operation: { paths: ['/data'], ports: ['8090'] } }] }],
      }),
    ],
    cases: [
      ['http-8090 /data', { to: 'ns1/b', path: '/data' }, 'DENY', 'ns1/deny-data', 0],
      ['http-8091 /data', { to: 'ns1/b', port: 8091, path: '/data' }, 'ALLOW', null],
      ['tcp-8092', { to: 'ns1/b', tcp: true }, 'ALLOW', null],
    ],
  },
  {
    id: 'V15',
    objects: [STRICT, V15_POLICY],
    cases: [
      ['a→c http-8090', { to: 'ns1/c' }, 'DENY', 'ns1/deny-c', 0],
      ['a→c http-8091', { to: 'ns1/c', port: 8091 }, 'ALLOW', null],
      ['a→c tcp-8092', { to: 'ns1/c', tcp: true }, 'ALLOW', null],
      ['b→c tcp-8092', { from: 'ns1/b', to: 'ns1/c', tcp: true }, 'ALLOW', null],
      ['b→c tcp-8093', { from: 'ns1/b', to: 'ns1/c', tcp: true, port: 8093 }, 'DENY', 'ns1/deny-c', 1],
      ['ns2/x→c tcp-8092', { from: 'ns2/x', to: 'ns1/c', tcp: true }, 'DENY', 'ns1/deny-c', 2],
      ['ns2/x→c tcp-8093', { from: 'ns2/x', to: 'ns1/c', tcp: true, port: 8093 }, 'ALLOW', null],
    ],
  },
  {
    id: 'V16',
    objects: [
      STRICT,
      AP('ns1', 'deny-d', {
        action: 'DENY',
        selector: on('d'),
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/ns1/sa/a'] } }, { source: { namespaces: ['ns2'] } }] }],
      }),
    ],
    cases: [
      ['a→d', { to: 'ns1/d', tcp: true }, 'DENY', 'ns1/deny-d', 0],
      ['b→d', { from: 'ns1/b', to: 'ns1/d', tcp: true }, 'ALLOW', null],
      ['c→d', { from: 'ns1/c', to: 'ns1/d', tcp: true }, 'ALLOW', null],
      ['ns2/x→d', { from: 'ns2/x', to: 'ns1/d', tcp: true }, 'DENY', 'ns1/deny-d', 0],
      ['ns2/x→a (no policy)', { from: 'ns2/x', to: 'ns1/a', tcp: true }, 'ALLOW', null],
    ],
  },
  {
    id: 'V17',
    objects: [
      STRICT,
      AP('ns1', 'deny-other', { action: 'DENY', selector: on('e'), rules: [{ to: [{ operation: { paths: ['/other'] } }] }] }),
    ],
    cases: [
      ['http-8090 /data', { to: 'ns1/e', path: '/data' }, 'ALLOW', null],
      ['http-8091 /data', { to: 'ns1/e', port: 8091, path: '/data' }, 'ALLOW', null],
      ['tcp-8092: HTTP-only value dropped → deny all TCP', { to: 'ns1/e', tcp: true }, 'DENY', 'ns1/deny-other', 0],
    ],
  },
  {
    id: 'V18',
    objects: [
      STRICT,
      AP('foo', 'httpbin', {
        selector: on('foo'),
        rules: [
          { from: [{ source: { requestPrincipals: ['id-1'] } }], to: [{ operation: { methods: ['GET'] } }] },
          { from: [{ source: { namespaces: ['ns-1'] } }], to: [{ operation: { ports: ['80'] } }] },
        ],
      }),
    ],
    cases: [
      ['ns-1 tcp:80', { from: 'ns-1/x', to: 'foo/foo', tcp: true, port: 80 }, 'ALLOW', 'foo/httpbin', 1],
      ['ns-1 tcp:81', { from: 'ns-1/x', to: 'foo/foo', tcp: true, port: 81 }, 'DENY', null],
      ['ns-2 tcp:80', { from: 'ns-2/x', to: 'foo/foo', tcp: true, port: 80 }, 'DENY', null],
    ],
  },
  {
    id: 'V19',
    objects: [STRICT, AP('ns1', 'allow-nothing', {})],
    cases: [
      ['http', { from: 'ns2/a', to: 'ns1/b' }, 'DENY', null],
      ['tcp', { to: 'ns1/c', tcp: true }, 'DENY', null],
    ],
  },
  {
    id: 'V20',
    objects: [STRICT, AP('ns1', 'allow-nothing', {}), AP('ns1', 'allow-all', { rules: [{}] })],
    cases: [
      ['http', { from: 'ns2/a', to: 'ns1/b' }, 'ALLOW', 'ns1/allow-all', 0],
      ['tcp', { to: 'ns1/c', tcp: true }, 'ALLOW', 'ns1/allow-all', 0],
    ],
  },
  {
    id: 'V21',
    objects: [STRICT, AP('ns1', 'deny-none', { action: 'DENY', selector: on('b') })],
    cases: [['any', { to: 'ns1/b' }, 'ALLOW', null]],
  },
  {
    id: 'V22',
    objects: [
      STRICT,
      AP('ns1', 'deny-all', { action: 'DENY', selector: on('b'), rules: [{}] }),
      AP('ns1', 'allow-all', { selector: on('b'), rules: [{}] }),
    ],
    cases: [['any', { to: 'ns1/b' }, 'DENY', 'ns1/deny-all', 0]],
  },
  {
    id: 'V23',
    objects: [
      STRICT,
      AP('ns1', 'conditions', {
        selector: on('c'),
        rules: [
          { to: [{ operation: { paths: ['/request-headers'] } }], when: [{ key: 'request.headers[x-foo]', values: ['foo'] }] },
          { to: [{ operation: { paths: ['/request-headers-notValues'] } }], when: [{ key: 'request.headers[x-foo]', notValues: ['bar'] }] },
          { to: [{ operation: { paths: ['/source-namespace'] } }], when: [{ key: 'source.namespace', values: ['ns1'] }] },
          { to: [{ operation: { paths: ['/destination-port-good'] } }], when: [{ key: 'destination.port', values: ['8090'] }] },
          { to: [{ operation: { paths: ['/destination-port-bad'] } }], when: [{ key: 'destination.port', values: ['1'] }] },
          {
            to: [{ operation: { paths: ['/connection-sni-good'] } }],
            when: [{ key: 'connection.sni', values: ['*.c.ns1.svc.cluster.local'] }],
          },
        ],
      }),
    ],
    cases: [
      ['header foo', { to: 'ns1/c', path: '/request-headers', headers: { 'X-Foo': 'foo' } }, 'ALLOW', 'ns1/conditions', 0],
      ['header bar', { to: 'ns1/c', path: '/request-headers', headers: { 'x-foo': 'bar' } }, 'DENY', null],
      ['header none', { to: 'ns1/c', path: '/request-headers' }, 'DENY', null],
      ['notValues foo', { to: 'ns1/c', path: '/request-headers-notValues', headers: { 'x-foo': 'foo' } }, 'ALLOW', 'ns1/conditions', 1],
      ['notValues bar', { to: 'ns1/c', path: '/request-headers-notValues', headers: { 'x-foo': 'bar' } }, 'DENY', null],
      ['source ns1', { to: 'ns1/c', path: '/source-namespace' }, 'ALLOW', 'ns1/conditions', 2],
      ['source ns2', { from: 'ns2/x', to: 'ns1/c', path: '/source-namespace' }, 'DENY', null],
      ['port good', { to: 'ns1/c', path: '/destination-port-good' }, 'ALLOW', 'ns1/conditions', 3],
      ['port bad', { to: 'ns1/c', path: '/destination-port-bad' }, 'DENY', null],
      ['sni', { to: 'ns1/c', path: '/connection-sni-good' }, 'ALLOW', 'ns1/conditions', 5],
      ['other', { to: 'ns1/c', path: '/other' }, 'DENY', null],
    ],
  },
  {
    id: 'V24',
    objects: [
      STRICT,
      AP('ns1', 'public', { selector: on('b'), rules: [{ to: [{ operation: { paths: ['/public*'], methods: ['GET'] } }] }] }),
    ],
    cases: [
      ['/public', { to: 'ns1/b', path: '/public' }, 'ALLOW', 'ns1/public', 0],
      ['/public/../public', { to: 'ns1/b', path: '/public/../public' }, 'ALLOW', 'ns1/public', 0],
      ['/private', { to: 'ns1/b', path: '/private' }, 'DENY', null],
      ['/public/../private', { to: 'ns1/b', path: '/public/../private' }, 'DENY', null],
      ['/public/%2e%2e/private', { to: 'ns1/b', path: '/public/%2e%2e/private' }, 'DENY', null],
      ['/public/%2E/%2E%2E/private', { to: 'ns1/b', path: '/public/%2E/%2E%2E/private' }, 'DENY', null],
    ],
  },
  {
    id: 'V25',
    objects: [
      AP('istio-system', 'deny-gw', {
        action: 'DENY',
        selector: on('istio-ingressgateway'),
        rules: [
          { to: [{ operation: { hosts: ['deny.b.com', '*.suffix.b.com', 'prefix.b.*'] } }] },
          { to: [{ operation: { hosts: ['internal.b.com'] } }, { operation: { paths: ['/private'] } }] },
          {
            from: [{ source: { remoteIpBlocks: ['172.17.72.46', '192.168.4.0/23'] } }],
            to: [{ operation: { hosts: ['remoteipblocks.b.com'] } }],
          },
          { from: [{ source: { notRemoteIpBlocks: ['172.23.240.0/22'] } }], to: [{ operation: { hosts: ['notremoteipblocks.b.com'] } }] },
          {
            to: [{ operation: { hosts: ['remoteipattr.b.com'] } }],
            when: [{ key: 'remote.ip', values: ['10.242.5.7', '10.124.99.0/24'] }],
          },
        ],
      }),
    ],
    cases: (() => {
      const gw = (host: string, path = '/', remoteIp?: string): Req => ({
        noSidecar: true,
        to: 'istio-system/istio-ingressgateway',
        port: 8080,
        host,
        path,
        remoteIp,
      });
      const c: Case[] = [
        ['DENY.B.COM', gw('DENY.B.COM'), 'DENY', 'istio-system/deny-gw', 0],
        ['Deny.Suffix.b.Com', gw('Deny.Suffix.b.Com'), 'DENY', 'istio-system/deny-gw', 0],
        ['www.b.com /', gw('www.b.com', '/', '172.16.0.1'), 'ALLOW', null],
        ['www.b.com /private', gw('www.b.com', '/private'), 'DENY', 'istio-system/deny-gw', 1],
        ['remoteipblocks hit', gw('remoteipblocks.b.com', '/', '172.17.72.46'), 'DENY', 'istio-system/deny-gw', 2],
        ['remoteipblocks miss', gw('remoteipblocks.b.com', '/', '10.4.5.6'), 'ALLOW', null],
        ['notremoteipblocks outside', gw('notremoteipblocks.b.com', '/', '10.2.3.4'), 'DENY', 'istio-system/deny-gw', 3],
        ['notremoteipblocks inside', gw('notremoteipblocks.b.com', '/', '172.23.242.188'), 'ALLOW', null],
        ['remote.ip hit', gw('remoteipattr.b.com', '/', '10.124.99.10'), 'DENY', 'istio-system/deny-gw', 4],
        ['remote.ip miss', gw('remoteipattr.b.com', '/', '10.4.5.6'), 'ALLOW', null],
      ];
      return c;
    })(),
  },
  {
    id: 'V26',
    objects: [PA('ns1', 'strict-b', { selector: on('b'), mtls: { mode: 'STRICT' } })],
    cases: [
      ['no-sidecar c → b http', { from: 'ns1/c', noSidecar: true, to: 'ns1/b' }, 'BLOCKED', null],
      ['no-sidecar c → b tcp', { from: 'ns1/c', noSidecar: true, to: 'ns1/b', tcp: true }, 'BLOCKED', null],
    ],
  },
  {
    id: 'V27',
    objects: [
      PA('ns1', 'permissive-b', { selector: on('b'), mtls: { mode: 'PERMISSIVE' } }),
      AP('ns1', 'any-peer', { selector: on('b'), rules: [{ from: [{ source: { principals: ['*'] } }] }] }),
    ],
    cases: [
      ['no-sidecar c → b', { from: 'ns1/c', noSidecar: true, to: 'ns1/b' }, 'DENY', null],
      ['injected a → b', { to: 'ns1/b' }, 'ALLOW', 'ns1/any-peer', 0],
    ],
  },
  // V28–V30 at the pod hop (the full Knative paths are in knative.test.ts).
  {
    id: 'V28',
    objects: V28(['app']),
    cases: [
      ['(a) direct', { from: 'app/client', to: 'app/k', port: 8012 }, 'ALLOW', 'app/allow-ns', 0],
      ['(b) activator', { from: 'knative-serving/activator', to: 'app/k', port: 8012 }, 'DENY', null],
      ['(c) gateway', { from: 'istio-system/istio-ingressgateway-service-account', to: 'app/k', port: 8012 }, 'DENY', null],
    ],
  },
  {
    id: 'V29',
    objects: V28(['app', 'knative-serving']),
    cases: [
      ['(a) direct', { from: 'app/client', to: 'app/k', port: 8012 }, 'ALLOW', 'app/allow-ns', 0],
      ['(b) activator', { from: 'knative-serving/activator', to: 'app/k', port: 8012 }, 'ALLOW', 'app/allow-ns', 0],
      ['(c) gateway, Serve mode', { from: 'istio-system/istio-ingressgateway-service-account', to: 'app/k', port: 8012 }, 'DENY', null],
    ],
  },
  {
    id: 'V30',
    objects: [STRICT, AP('app', 'root-only', { rules: [{ to: [{ operation: { paths: ['/'] } }] }] })],
    cases: [
      ['activator probe /healthz', { from: 'knative-serving/activator', to: 'app/k', port: 8012, path: '/healthz' }, 'DENY', null],
      ['autoscaler /metrics', { from: 'knative-serving/controller', to: 'app/k', port: 9090, path: '/metrics' }, 'DENY', null],
      ['user GET /', { from: 'app/client', to: 'app/k', port: 8012, path: '/' }, 'ALLOW', 'app/root-only', 0],
    ],
  },
];

test('research §7 lists 30 vectors and each is encoded', () => {
  assert.deepEqual(
    vectors.map((v) => v.id),
    Array.from({ length: 30 }, (_, i) => `V${i + 1}`),
  );
});

for (const v of vectors) {
  for (const [label, r, decision, policy, rule] of v.cases) {
    test(`${v.id} ${label}`, () => {
      const res = checkRequest(req(r), securityConfigFrom(v.objects), DEFAULT_MESH);
      assert.equal(res.decision, decision, res.reason);
      assert.equal(res.policy, policy, res.reason);
      if (rule !== undefined) assert.equal(res.rule, rule);
    });
  }
}

test('v1beta1 and v1 AuthorizationPolicies evaluate the same', () => {
  for (const apiVersion of ['security.istio.io/v1beta1', 'security.istio.io/v1']) {
    const cfg = securityConfigFrom([STRICT, AP('ns1', 'p', { rules: [{ from: [{ source: { namespaces: ['ns1'] } }] }] }, apiVersion)]);
    assert.equal(checkRequest(req({ from: 'ns2/a', to: 'ns1/b' }), cfg, DEFAULT_MESH).decision, 'DENY');
    assert.equal(checkRequest(req({ to: 'ns1/b' }), cfg, DEFAULT_MESH).policy, 'ns1/p');
  }
});

test('root namespace is a parameter: a selector-less policy in another "root" applies mesh-wide', () => {
  const cfg = securityConfigFrom([AP('mesh-root', 'deny-all', { action: 'DENY', rules: [{}] })]);
  assert.equal(checkRequest(req({ to: 'ns1/b' }), cfg, DEFAULT_MESH).decision, 'ALLOW');
  const res = checkRequest(req({ to: 'ns1/b' }), cfg, { ...DEFAULT_MESH, rootNamespace: 'mesh-root' });
  assert.equal(res.decision, 'DENY');
  assert.equal(res.policy, 'mesh-root/deny-all');
});

test('policies in a third namespace never apply; dry-run and targetRef policies are not enforced', () => {
  const dry = AP('ns1', 'dry', { action: 'DENY', rules: [{}] });
  dry.metadata.annotations = { 'istio.io/dry-run': 'true' };
  const cfg = securityConfigFrom([
    AP('ns2', 'elsewhere', { action: 'DENY', rules: [{}] }),
    dry,
    AP('ns1', 'gwapi', { action: 'DENY', targetRefs: [{ kind: 'Gateway', name: 'g' }], rules: [{}] }),
  ]);
  const res = checkRequest(req({ to: 'ns1/b' }), cfg, DEFAULT_MESH);
  assert.equal(res.decision, 'ALLOW');
  assert.equal(res.policy, null);
});

test('PeerAuthentication: workload portLevelMtls beats namespace and mesh; UNSET inherits', () => {
  const cfg = securityConfigFrom([
    PA('istio-system', 'mesh', { mtls: { mode: 'STRICT' } }),
    PA('ns1', 'ns', { mtls: { mode: 'UNSET' } }),
    PA('ns1', 'wl', {
      selector: on('b'),
      mtls: { mode: 'UNSET' },
      portLevelMtls: { '8091': { mode: 'PERMISSIVE' }, '8092': { mode: 'UNSET' } },
    }),
    PA('istio-system', 'root-selector-ignored', { selector: on('b'), mtls: { mode: 'DISABLE' } }),
  ]);
  const plain = (port: number) => checkRequest(req({ noSidecar: true, to: 'ns1/b', port }), cfg, DEFAULT_MESH);
  assert.equal(plain(8090).decision, 'BLOCKED');
  assert.match(plain(8090).reason, /istio-system\/mesh/);
  assert.equal(plain(8091).decision, 'ALLOW');
  assert.equal(plain(8092).decision, 'BLOCKED');
});

test('excluded inbound port bypasses PA and authz for plaintext callers; an mTLS client fails there', () => {
  const cfg = securityConfigFrom([STRICT, AP('ns1', 'deny-all', { action: 'DENY', rules: [{}] })]);
  const r = req({ noSidecar: true, to: 'ns1/b', port: 8022 });
  r.destination.excludedPorts = [8022];
  assert.equal(checkRequest(r, cfg, DEFAULT_MESH).decision, 'ALLOW');
  const m = req({ to: 'ns1/b', port: 8022 });
  m.destination.excludedPorts = [8022];
  assert.equal(checkRequest(m, cfg, DEFAULT_MESH).decision, 'BLOCKED');
});

test('auto mTLS: a namespace PA DISABLE makes clients send plaintext; workload DISABLE does not', () => {
  const nsDisable = securityConfigFrom([
    PA('ns1', 'off', { mtls: { mode: 'DISABLE' } }),
    AP('ns1', 'need-peer', { rules: [{ from: [{ source: { principals: ['*'] } }] }] }),
  ]);
  assert.equal(checkRequest(req({ to: 'ns1/b' }), nsDisable, DEFAULT_MESH).decision, 'DENY');
  const wlDisable = securityConfigFrom([PA('ns1', 'off', { selector: on('b'), mtls: { mode: 'DISABLE' } })]);
  assert.equal(checkRequest(req({ to: 'ns1/b' }), wlDisable, DEFAULT_MESH).decision, 'BLOCKED');
});

test('CUSTOM match is reported as conditional on the provider, DENY still wins', () => {
  const cfg = securityConfigFrom([
    STRICT,
    AP('ns1', 'ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
    AP('ns1', 'deny-x', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/x'] } }] }] }),
  ]);
  const a = checkRequest(req({ to: 'ns1/b', path: '/admin/y' }), cfg, DEFAULT_MESH);
  assert.equal(a.decision, 'ALLOW');
  assert.equal(a.policy, 'ns1/ext');
  assert.match(a.reason, /opa/);
  assert.equal(checkRequest(req({ to: 'ns1/b', path: '/admin/x' }), cfg, DEFAULT_MESH).policy, 'ns1/deny-x');
});

test('unknown when key skips the rule; host with port needs the :* form', () => {
  const cfg = securityConfigFrom([
    STRICT,
    AP('ns1', 'bad-key', { action: 'DENY', rules: [{ when: [{ key: 'request.bogus', values: ['x'] }] }] }),
    AP('ns1', 'hosts', { rules: [{ to: [{ operation: { hosts: ['b.example.com'] } }] }] }),
  ]);
  assert.equal(checkRequest(req({ to: 'ns1/b', host: 'B.example.com' }), cfg, DEFAULT_MESH).policy, 'ns1/hosts');
  assert.equal(checkRequest(req({ to: 'ns1/b', host: 'b.example.com:8080' }), cfg, DEFAULT_MESH).decision, 'DENY');
});
