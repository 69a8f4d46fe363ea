// Issue 12 §3: mesh config, RequestAuthentication + JWT, targetRef attachment, bounded caches.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkRequest } from '../../src/authz/evaluate.ts';
import { modelFromObjects } from '../../src/authz/knative.ts';
import { cacheSizes, CACHE_CAPACITY, matchPath, normalizePath } from '../../src/authz/match.ts';
import { meshConfigFromObjects, meshOptionsFromMeshConfig, securityConfigFrom } from '../../src/authz/parse.ts';
import { DEFAULT_MESH, type AuthzRequest } from '../../src/authz/types.ts';
import { verifyModel } from '../../src/authz/verify.ts';
import type { KubeObject } from '../../src/util/kube.ts';

const AP = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: ns },
  spec,
});
const RA = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'RequestAuthentication',
  metadata: { name, namespace: ns },
  spec,
});
const req = (over: Partial<AuthzRequest> = {}, dst: Partial<AuthzRequest['destination']> = {}): AuthzRequest => ({
  source: { namespace: 'ns1', serviceAccount: 'a', sidecar: true },
  destination: { namespace: 'ns1', labels: { app: 'b' }, port: 8080, protocol: 'http', sidecar: true, ...dst },
  method: 'GET',
  path: '/',
  ...over,
});
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (payload: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(payload)}.c2ln`;

test('meshConfig: normalization, trust domain + aliases, providers, numTrustedProxies', () => {
  const mesh = meshOptionsFromMeshConfig({
    trustDomain: 'td1',
    trustDomainAliases: ['old-td'],
    pathNormalization: { normalization: 'MERGE_SLASHES' },
    extensionProviders: [
      { name: 'opa', envoyExtAuthzHttp: { service: 'opa.x', port: 80 } },
      { name: 'grpc', envoyExtAuthzGrpc: { service: 'g', port: 9 } },
    ],
    defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } },
  });
  assert.equal(mesh.trustDomain, 'td1');
  assert.deepEqual(mesh.trustDomainAliases, ['old-td']);
  assert.equal(mesh.pathNormalization, 'MERGE_SLASHES');
  assert.deepEqual(mesh.extensionProviders, { opa: { tcp: false }, grpc: { tcp: true } });
  assert.equal(mesh.numTrustedProxies, 2);
  assert.equal(meshOptionsFromMeshConfig({ pathNormalization: {} }).pathNormalization, 'BASE');
  assert.throws(() => meshOptionsFromMeshConfig({ pathNormalization: { normalization: 'WEIRD' } }), /unknown value/);
});

test('mesh config is found in the istio ConfigMap, the sail Istio CR and the SMCP', () => {
  const cm: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'trustDomain: cm.td\n' },
  };
  assert.equal(meshConfigFromObjects([cm])?.trustDomain, 'cm.td');
  const sail: KubeObject = {
    apiVersion: 'sailoperator.io/v1',
    kind: 'Istio',
    metadata: { name: 'default' },
    spec: { values: { meshConfig: { trustDomain: 'sail.td' } } },
  };
  assert.equal(meshConfigFromObjects([sail])?.trustDomain, 'sail.td');
  const smcp: KubeObject = {
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name: 'basic', namespace: 'istio-system' },
    spec: { security: { trust: { domain: 'smcp.td', additionalDomains: ['a.td'] } } },
  };
  assert.deepEqual(meshConfigFromObjects([smcp]), { trustDomain: 'smcp.td', trustDomainAliases: ['a.td'] });
});

test('trust domain aliases: a policy naming an alias (or cluster.local) matches the local identities', () => {
  const mesh = { ...DEFAULT_MESH, trustDomain: 'new-td', trustDomainAliases: ['old-td'] };
  const cfg = securityConfigFrom([
    AP('ns1', 'p', {
      rules: [
        { from: [{ source: { principals: ['old-td/ns/ns1/sa/a'] } }] },
        { from: [{ source: { trustDomains: ['old-td'] } }], to: [{ operation: { paths: ['/td'] } }] },
      ],
    }),
  ]);
  assert.equal(checkRequest(req({ transport: 'mtls' }), cfg, mesh).decision, 'ALLOW');
  assert.equal(
    checkRequest(req({ transport: 'mtls', source: { principal: 'other/ns/ns1/sa/a', sidecar: true } }), cfg, mesh).decision,
    'DENY',
  );
  assert.equal(
    checkRequest(req({ transport: 'mtls', path: '/td', source: { principal: 'new-td/ns/ns1/sa/z', sidecar: true } }), cfg, mesh).decision,
    'ALLOW',
  );
  assert.equal(checkRequest(req({ transport: 'mtls' }), cfg, DEFAULT_MESH).decision, 'DENY');
});

test('CUSTOM naming a provider the mesh config does not define: its rules deny (builder.go getBadCustomDenyRules)', () => {
  const cfg = securityConfigFrom([
    AP('ns1', 'ext', { action: 'CUSTOM', provider: { name: 'missing' }, rules: [{ to: [{ operation: { paths: ['/x'] } }] }] }),
  ]);
  const known = { ...DEFAULT_MESH, extensionProviders: { missing: { tcp: false } } };
  const none = { ...DEFAULT_MESH, extensionProviders: {} };
  assert.equal(checkRequest(req({ path: '/x' }), cfg, none).decision, 'DENY');
  assert.equal(checkRequest(req({ path: '/y' }), cfg, none).decision, 'ALLOW');
  const r = checkRequest(req({ path: '/x' }), cfg, known);
  assert.equal(r.decision, 'ALLOW');
  assert.equal(r.dependsOn, 'missing');
  // An HTTP provider is not applied on TCP chains.
  const tcp = securityConfigFrom([AP('ns1', 'ext', { action: 'CUSTOM', provider: { name: 'missing' }, rules: [{}] })]);
  assert.equal(checkRequest(req({}, { protocol: 'tcp' }), tcp, known).dependsOn, undefined);
});

test('RequestAuthentication: JWT decoded into principal and claims; unaccepted token is 401 before authz', () => {
  const cfg = securityConfigFrom([
    RA('ns1', 'ra', { jwtRules: [{ issuer: 'iss-1', spaceDelimitedClaims: ['teams'] }] }),
    AP('ns1', 'p', {
      rules: [
        { from: [{ source: { requestPrincipals: ['iss-1/sub-1'] } }], to: [{ operation: { paths: ['/p'] } }] },
        { when: [{ key: 'request.auth.claims[scope]', values: ['write'] }], to: [{ operation: { paths: ['/scope'] } }] },
        { when: [{ key: 'request.auth.claims[teams]', values: ['blue'] }], to: [{ operation: { paths: ['/teams'] } }] },
      ],
    }),
  ]);
  const t = jwt({ iss: 'iss-1', sub: 'sub-1', scope: 'read write', teams: 'red blue' });
  assert.equal(checkRequest(req({ path: '/p', jwt: t }), cfg, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req({ path: '/scope', headers: { Authorization: `Bearer ${t}` } }), cfg, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req({ path: '/teams', jwt: t }), cfg, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req({ path: '/p' }), cfg, DEFAULT_MESH).decision, 'DENY');
  const bad = checkRequest(req({ path: '/p', jwt: jwt({ iss: 'other', sub: 'x' }) }), cfg, DEFAULT_MESH);
  assert.equal(bad.decision, 'BLOCKED');
  assert.match(bad.reason, /401/);
  assert.equal(
    checkRequest(req({ path: '/p', jwt: jwt({ iss: 'iss-1', sub: 'sub-1', exp: 1000 }) }), cfg, DEFAULT_MESH).decision,
    'BLOCKED',
  );
  // Without a RequestAuthentication the token is not looked at.
  assert.equal(checkRequest(req({ path: '/p', jwt: 'garbage' }), securityConfigFrom([]), DEFAULT_MESH).decision, 'ALLOW');
});

test('targetRefs attach to the named Gateway API gateway only; selector policies also apply there', () => {
  const cfg = securityConfigFrom([
    AP('gw', 'by-ref', {
      action: 'DENY',
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web' }],
      rules: [{ to: [{ operation: { paths: ['/ref'] } }] }],
    }),
    AP('gw', 'svc-ref', { action: 'DENY', targetRef: { group: '', kind: 'Service', name: 'web' }, rules: [{}] }),
  ]);
  const gwReq = (path: string, name = 'web') =>
    req({ path }, { namespace: 'gw', labels: { 'gateway.networking.k8s.io/gateway-name': name } });
  assert.equal(checkRequest(gwReq('/ref'), cfg, DEFAULT_MESH).decision, 'DENY');
  assert.equal(checkRequest(gwReq('/other'), cfg, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(gwReq('/ref', 'api'), cfg, DEFAULT_MESH).decision, 'ALLOW');
  assert.equal(checkRequest(req({ path: '/ref' }, { namespace: 'gw' }), cfg, DEFAULT_MESH).decision, 'ALLOW');
});

test('numTrustedProxies: remote.ip from X-Forwarded-For at a gateway', () => {
  const cfg = securityConfigFrom([
    AP('istio-system', 'p', { action: 'DENY', rules: [{ from: [{ source: { remoteIpBlocks: ['1.2.3.4'] } }] }] }),
  ]);
  const r = req(
    { headers: { 'X-Forwarded-For': '9.9.9.9, 1.2.3.4' }, source: { sidecar: false, ip: '10.0.0.1' } },
    { namespace: 'istio-system', gatewayListener: 'PLAINTEXT' },
  );
  assert.equal(checkRequest(r, cfg, { ...DEFAULT_MESH, numTrustedProxies: 1 }).decision, 'DENY');
  assert.equal(checkRequest(r, cfg, { ...DEFAULT_MESH, numTrustedProxies: 2 }).decision, 'ALLOW');
  assert.equal(checkRequest(r, cfg, DEFAULT_MESH).decision, 'ALLOW');
});

test('verify: a mesh whose trust domain and normalization differ gets its own answers', () => {
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'serverlessmesh.dev/tenant': 'a' } } },
    AP('team-a', 'only-td', { rules: [{ from: [{ source: { principals: ['other.td/ns/team-a/sa/default'] } }] }] }),
  ];
  const allowedDirect = (objs: KubeObject[]) =>
    verifyModel(modelFromObjects(objs)).paths.find((p) => p.from === 'team-a' && p.via === 'direct')!.allowed;
  assert.equal(allowedDirect(objects), false);
  const cm: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'trustDomain: real.td\ntrustDomainAliases: [other.td]\n' },
  };
  assert.equal(modelFromObjects([...objects, cm]).mesh.trustDomain, 'real.td');
  assert.equal(allowedDirect([...objects, cm]), true);
});

test('authz --mesh-config FILE changes the normalization', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authz-mc-'));
  const pol = join(dir, 'p.yaml');
  writeFileSync(
    pol,
    'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: ns1}\nspec: {action: DENY, rules: [{to: [{operation: {paths: ["/a/b"]}}]}]}\n',
  );
  const mc = join(dir, 'mesh.yaml');
  writeFileSync(mc, 'pathNormalization: {normalization: MERGE_SLASHES}\n');
  const request = JSON.stringify({
    source: { namespace: 'ns1', serviceAccount: 'a' },
    destination: { namespace: 'ns1', port: 80 },
    path: '/a//b',
  });
  const cli = (...a: string[]) =>
    spawnSync(process.execPath, ['bin/serverless-mesh.js', 'authz', '-m', pol, '--request', request, '-o', 'json', ...a], {
      encoding: 'utf8',
    });
  assert.equal(JSON.parse(cli().stdout).decision, 'ALLOW');
  assert.equal(JSON.parse(cli('--mesh-config', mc).stdout).decision, 'DENY');
});

test('module memo tables stay bounded', () => {
  for (let i = 0; i < CACHE_CAPACITY + 500; i++) {
    normalizePath(`/p/${i}`, 'BASE');
    matchPath(`/x/{*}/${i}`, '/x/y/1');
  }
  const s = cacheSizes();
  assert.ok(s.normalized <= CACHE_CAPACITY && s.regex <= CACHE_CAPACITY, JSON.stringify(s));
});
