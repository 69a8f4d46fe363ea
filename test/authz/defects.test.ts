// Issue 12 §2: defects found by the conformance suite, each pinned by a test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkRequest } from '../../src/authz/evaluate.ts';
import { normalizePath } from '../../src/authz/match.ts';
import { parseRequest, securityConfigFrom } from '../../src/authz/parse.ts';
import { DEFAULT_MESH, type AuthzRequest } from '../../src/authz/types.ts';
import { UserError } from '../../src/util/errors.ts';
import type { KubeObject } from '../../src/util/kube.ts';

const base = {
  source: { namespace: 'ns1', serviceAccount: 'a' },
  destination: { namespace: 'ns1', labels: { app: 'b' }, port: 18080, protocol: 'http' },
  method: 'GET',
  path: '/',
};

test('--request keeps jwtClaims, gatewayListener, tlsModeLabel, serviceNamespace, servicePort', () => {
  const r = parseRequest(
    JSON.stringify({
      ...base,
      destination: { ...base.destination, gatewayListener: 'SIMPLE', tlsModeLabel: false, serviceNamespace: 'ns9', servicePort: 80 },
      jwtClaims: { groups: ['g1'], aud: 'foo' },
    }),
  );
  assert.deepEqual(r.jwtClaims, { groups: ['g1'], aud: 'foo' });
  assert.equal(r.destination.gatewayListener, 'SIMPLE');
  assert.equal(r.destination.tlsModeLabel, false);
  assert.equal(r.destination.serviceNamespace, 'ns9');
  assert.equal(r.destination.servicePort, 80);
});

test('--request: unknown fields are an error naming the field (exit 2)', () => {
  for (const bad of [
    { ...base, bogus: 1 },
    { ...base, source: { ...base.source, sa: 'x' } },
    { ...base, destination: { ...base.destination, prot: 1 } },
  ]) {
    assert.throws(
      () => parseRequest(JSON.stringify(bad)),
      (e: unknown) => e instanceof UserError && e.kind === 'input' && /unknown field/.test(e.message) && !e.message.includes('\n'),
    );
  }
});

test('CLI: an unknown --request field is one line on stderr, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authz-defects-'));
  const f = join(dir, 'empty.yaml');
  writeFileSync(f, '');
  const r = spawnSync(
    process.execPath,
    ['bin/serverless-mesh.js', 'authz', '-m', f, '--request', JSON.stringify({ ...base, colour: 'red' })],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /colour/);
});

test('claims given in --request reach the evaluator through the CLI parser', () => {
  const config = securityConfigFrom([
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'p', namespace: 'ns1' },
      spec: { rules: [{ when: [{ key: 'request.auth.claims[groups]', values: ['g1'] }] }] },
    },
  ]);
  const r = parseRequest(JSON.stringify({ ...base, requestPrincipal: 'iss/sub', jwtClaims: { groups: ['g1'] } }));
  assert.equal(checkRequest(r, config, DEFAULT_MESH).decision, 'ALLOW');
});

const AP = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'ns1' },
  spec,
});
const req = (principal: string): AuthzRequest => ({
  source: { principal, sidecar: true },
  destination: { namespace: 'ns1', labels: { app: 'b' }, port: 18080, protocol: 'http', sidecar: true },
  method: 'GET',
  path: '/',
  transport: 'mtls',
});

test('when key source.trustDomain is known (pilot/pkg/security/authz/model/model.go attrSrcTrustDomain)', () => {
  const config = securityConfigFrom([AP('td', { rules: [{ when: [{ key: 'source.trustDomain', values: ['cluster.local'] }] }] })]);
  assert.equal(checkRequest(req('cluster.local/ns/ns1/sa/a'), config, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req('other.td/ns/ns1/sa/a'), config, DEFAULT_MESH).decision, 'DENY');
});

test('one * anywhere in a trust domain (generator.go srcTrustDomainGenerator)', () => {
  const config = securityConfigFrom([AP('td', { rules: [{ from: [{ source: { trustDomains: ['prod*.example.com'] } }] }] })]);
  assert.equal(checkRequest(req('prod-eu.example.com/ns/ns1/sa/a'), config, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req('dev.example.com/ns/ns1/sa/a'), config, DEFAULT_MESH).decision, 'DENY');
  const cond = securityConfigFrom([AP('td', { rules: [{ when: [{ key: 'source.trustDomain', values: ['td-*-local'] }] }] })]);
  assert.equal(checkRequest(req('td-1-local/ns/ns1/sa/a'), cond, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req('td-1-remote/ns/ns1/sa/a'), cond, DEFAULT_MESH).decision, 'DENY');
});

test('BASE keeps percent-escapes it does not decode as they are', () => {
  assert.equal(normalizePath('/app/%2f', 'BASE'), '/app/%2f');
  assert.equal(normalizePath('/app/%2F', 'BASE'), '/app/%2F');
  assert.equal(normalizePath('/a/%7e', 'BASE'), '/a/~');
  const config = securityConfigFrom([AP('exact', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/app/%2f'] } }] }] })]);
  assert.equal(checkRequest({ ...req('cluster.local/ns/ns1/sa/a'), path: '/app/%2f' }, config, DEFAULT_MESH).decision, 'DENY');
});

test('default SNI and DestinationRule port-level TLS use the service port', () => {
  const objects: KubeObject[] = [
    AP('sni', { rules: [{ when: [{ key: 'connection.sni', values: ['outbound_.80_._.b.ns1.svc.cluster.local'] }] }] }),
  ];
  const r: AuthzRequest = {
    source: { namespace: 'ns1', serviceAccount: 'a', sidecar: true },
    destination: {
      namespace: 'ns1',
      labels: { app: 'b' },
      port: 18080,
      servicePort: 80,
      protocol: 'http',
      sidecar: true,
      service: 'b.ns1.svc.cluster.local',
    },
    method: 'GET',
    path: '/',
  };
  assert.equal(checkRequest(r, securityConfigFrom(objects), DEFAULT_MESH).decision, 'ALLOW');
  const dr: KubeObject = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'dr', namespace: 'ns1' },
    spec: { host: 'b.ns1.svc.cluster.local', trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'DISABLE' } }] } },
  };
  const strict: KubeObject = {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace: 'istio-system' },
    spec: { mtls: { mode: 'STRICT' } },
  };
  assert.equal(checkRequest(r, securityConfigFrom([dr, strict]), DEFAULT_MESH).decision, 'BLOCKED');
});

// jwt_test.go (TestRequestAuthentication) found three differences from Envoy's jwt_authn filter.
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (payload: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(payload)}.c2ln`;
const requestAuthn = (jwtRules: unknown[]): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'RequestAuthentication',
  metadata: { name: 'ra', namespace: 'ns1' },
  spec: { selector: { matchLabels: { app: 'b' } }, jwtRules },
});
const jwtReq = (over: Partial<AuthzRequest>): AuthzRequest => ({
  source: { namespace: 'ns1', serviceAccount: 'a', sidecar: true },
  destination: { namespace: 'ns1', labels: { app: 'b' }, port: 18080, protocol: 'http', sidecar: true },
  method: 'GET',
  path: '/',
  ...over,
});
const expired = token({ iss: 'iss-1', sub: 'sub-1', exp: 1562182856 });
const valid = token({ iss: 'iss-1', sub: 'sub-1', exp: 4715782722 });

test('jwt_authn lets a CORS preflight through whatever its token (OPTIONS with Origin and Access-Control-Request-Method)', () => {
  const cfg = securityConfigFrom([requestAuthn([{ issuer: 'iss-1' }])]);
  const preflight = (headers: Record<string, string>) =>
    checkRequest(jwtReq({ method: 'OPTIONS', jwt: expired, headers }), cfg, DEFAULT_MESH);
  assert.equal(preflight({ Origin: 'https://istio.io', 'Access-Control-Request-Method': 'POST' }).decision, 'ALLOW');
  // Without Origin it is no preflight: the expired token is answered 401.
  const r = preflight({ 'Access-Control-Request-Method': 'POST' });
  assert.equal(r.decision, 'BLOCKED');
  assert.match(r.reason, /^401 /);
});

test('jwt_authn answers a token whose audience no rule allows with 403, other rejections with 401', () => {
  const cfg = securityConfigFrom([requestAuthn([{ issuer: 'iss-1', audiences: ['foo'] }])]);
  const r = checkRequest(jwtReq({ jwt: valid }), cfg, DEFAULT_MESH);
  assert.equal(r.decision, 'BLOCKED');
  assert.match(r.reason, /^403 .*Audiences in Jwt are not allowed/);
  assert.match(checkRequest(jwtReq({ jwt: expired }), cfg, DEFAULT_MESH).reason, /^401 .*expired/);
});

test('jwt_authn verifies every token a rule extracts: one expired among valid ones is 401', () => {
  const cfg = securityConfigFrom([requestAuthn([{ issuer: 'iss-1', fromParams: ['token', 'secondary_token'] }])]);
  assert.equal(checkRequest(jwtReq({ path: `/p?token=${valid}&secondary_token=${valid}` }), cfg, DEFAULT_MESH).decision, 'ALLOW');
  const r = checkRequest(jwtReq({ path: `/p?token=${valid}&secondary_token=${expired}` }), cfg, DEFAULT_MESH);
  assert.equal(r.decision, 'BLOCKED');
  assert.match(r.reason, /^401 .*expired/);
});

// istio.io authz-dry-run: the page checks the proxy's "shadow denied, matched policy
// ns[foo]-policy[deny-path-headers]-rule[0]" log line while the request itself succeeds.
test('dry-run policies do not decide the request but yield the shadow verdict Envoy logs, per action', () => {
  const dry = (name: string, action: string, paths: string[]): KubeObject => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 'ns1', annotations: { 'istio.io/dry-run': 'true' } },
    spec: { selector: { matchLabels: { app: 'b' } }, action, rules: [{ to: [{ operation: { paths } }] }] },
  });
  const cfg = securityConfigFrom([dry('deny-headers', 'DENY', ['/headers']), dry('allow-ip', 'ALLOW', ['/ip'])]);
  const r = checkRequest(jwtReq({ path: '/headers' }), cfg, DEFAULT_MESH);
  assert.equal(r.decision, 'ALLOW');
  assert.deepEqual(r.shadow, [
    { action: 'DENY', result: 'denied', policy: 'ns1/deny-headers', rule: 0 },
    { action: 'ALLOW', result: 'denied', policy: null, rule: null },
  ]);
  assert.deepEqual(checkRequest(jwtReq({ path: '/ip' }), cfg, DEFAULT_MESH).shadow, [
    { action: 'DENY', result: 'allowed', policy: null, rule: null },
    { action: 'ALLOW', result: 'allowed', policy: 'ns1/allow-ip', rule: 0 },
  ]);
  // No dry-run policy applies: no shadow verdict.
  assert.equal(
    checkRequest(jwtReq({ destination: { ...jwtReq({}).destination, labels: { app: 'c' } } }), cfg, DEFAULT_MESH).shadow,
    undefined,
  );
});

// jwt_test.go authn-only / forward: the request the workload receives after jwt_authn.
test('jwt_authn rewrites the request it accepts: token removed unless forwardOriginalToken, payload and claims to headers', () => {
  const tok = token({
    iss: 'iss-1',
    sub: 'sub-1',
    iat: 1562182722,
    exp: 4715782722,
    nested: { 'nested-2': { key2: 'valueC' } },
    list: ['x'],
  });
  const rule = {
    issuer: 'iss-1',
    outputPayloadToHeader: 'x-test-payload',
    outputClaimToHeaders: [
      { header: 'x-jwt-iss', claim: 'iss' },
      { header: 'x-jwt-iat', claim: 'iat' },
      { header: 'x-jwt-nested-claim', claim: 'nested.nested-2.key2' },
      { header: 'x-jwt-list', claim: 'list' },
    ],
  };
  const r = checkRequest(jwtReq({ headers: { Authorization: `Bearer ${tok}` } }), securityConfigFrom([requestAuthn([rule])]), DEFAULT_MESH);
  assert.equal(r.decision, 'ALLOW');
  assert.deepEqual(r.upstreamHeaders, {
    authorization: null,
    'x-test-payload': tok.split('.')[1],
    'x-jwt-iss': 'iss-1',
    'x-jwt-iat': '1562182722',
    'x-jwt-nested-claim': 'valueC',
    // Lists and objects go out as base64 of their JSON (authenticator.cc addJWTClaimToHeader).
    'x-jwt-list': Buffer.from('["x"]').toString('base64'),
  });
  const fwd = checkRequest(
    jwtReq({ headers: { Authorization: `Bearer ${tok}` } }),
    securityConfigFrom([requestAuthn([{ issuer: 'iss-1', forwardOriginalToken: true }])]),
    DEFAULT_MESH,
  );
  assert.deepEqual(fwd.upstreamHeaders, {});
  // No token: jwt_authn changes nothing.
  assert.equal(checkRequest(jwtReq({}), securityConfigFrom([requestAuthn([rule])]), DEFAULT_MESH).upstreamHeaders, undefined);
});

test('istio.io/dry-run is read like Go strconv.ParseBool (builder.go isDryRun): "True", "1", "t" are dry-run too', () => {
  const policy = (value: string): KubeObject => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'p', namespace: 'ns1', annotations: { 'istio.io/dry-run': value } },
    spec: { selector: { matchLabels: { app: 'b' } }, action: 'DENY', rules: [{}] },
  });
  for (const v of ['true', 'True', 'TRUE', 't', 'T', '1']) assert.equal(securityConfigFrom([policy(v)]).policies[0]!.dryRun, true, v);
  // "false", "0" and values ParseBool rejects (istiod logs the error) enforce the policy.
  for (const v of ['false', '0', 'yes', '']) assert.equal(securityConfigFrom([policy(v)]).policies[0]!.dryRun, false, v);
});
