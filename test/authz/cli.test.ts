import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/serverless-mesh.js', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'authz-cli-'));

const policies = join(dir, 'policies.yaml');
writeFileSync(
  policies,
  `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-a, namespace: ns1}
spec:
  selector: {matchLabels: {app: b}}
  rules:
    - from: [{source: {principals: ["cluster.local/ns/ns1/sa/a"]}}]
      to: [{operation: {paths: ["/allow"]}}]
`,
);

const request = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    source: { namespace: 'ns1', serviceAccount: 'a', sidecar: true },
    destination: { namespace: 'ns1', labels: { app: 'b' }, port: 8090, protocol: 'http', sidecar: true },
    method: 'GET',
    path: '/allow',
    host: 'b.ns1.svc.cluster.local',
    headers: {},
    ...over,
  });

test('authz -o json: ALLOW names the policy and rule', () => {
  const r = cli('authz', '-m', policies, '--request', request(), '-o', 'json');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    decision: 'ALLOW',
    policy: 'ns1/allow-a',
    rule: 0,
    reason: 'allowed by ALLOW policy ns1/allow-a rules[0]',
  });
});

test('authz: implicit deny and BLOCKED plaintext under STRICT', () => {
  const deny = JSON.parse(cli('authz', '-m', policies, '--request', request({ path: '/deny' }), '-o', 'json').stdout);
  assert.equal(deny.decision, 'DENY');
  assert.equal(deny.policy, null);
  const blocked = JSON.parse(
    cli('authz', '-m', policies, '--request', request({ source: { namespace: 'ns1', serviceAccount: 'a', sidecar: false } }), '-o', 'json')
      .stdout,
  );
  assert.equal(blocked.decision, 'BLOCKED');
  assert.match(blocked.reason, /STRICT/);
});

test('authz text output is one line naming the deciding policy', () => {
  const r = cli('authz', '-m', policies, '--request', request());
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.match(r.stdout, /^ALLOW by ns1\/allow-a rules\[0\]/);
});

test('authz: a bad request is a usage error (exit 2)', () => {
  const r = cli('authz', '-m', policies, '--request', '{"source":{}}');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /destination is required/);
});

test('verify -f the tenants example: isolated, exit 0, JSON shape', () => {
  const r = cli('verify', '-f', 'examples/ossm2-tenants.yaml', '-o', 'json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { paths: Array<Record<string, unknown>>; requiredEdges: unknown[] };
  assert.deepEqual(Object.keys(out), ['paths', 'requiredEdges', 'eventing', 'expectations', 'findings']);
  assert.deepEqual(Object.keys(out.paths[0]!), ['from', 'to', 'via', 'allowed', 'hop', 'policy', 'reason']);
  const row = out.paths.find((p) => p.from === 'team-alpha-1' && p.to === 'team-bravo-1/ksvc' && p.via === 'direct')!;
  assert.equal(row.allowed, false);
  assert.match(String(row.reason), /RBAC: access denied/);
});

test('verify -m with a leaking activator policy exits 1 and lists the leak', () => {
  const render = cli('render', '-f', 'examples/ossm2-tenants.yaml', '--certs-dir', dir);
  assert.equal(render.status, 0, render.stderr);
  const rendered = join(dir, 'rendered.yaml');
  writeFileSync(rendered, render.stdout);
  const leak = join(dir, 'leak.yaml');
  writeFileSync(
    leak,
    `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: allow-everyone-to-activator, namespace: knative-serving}
spec:
  selector: {matchLabels: {app: activator}}
  rules: [{from: [{source: {namespaces: ["team-alpha-1"]}}]}]
`,
  );
  const ok = cli('verify', '-m', rendered);
  assert.equal(ok.status, 0, ok.stdout);
  const r = cli('verify', '-m', rendered, '-m', leak);
  assert.equal(r.status, 1);
  // Rendered as findings (as check prints them): the resource, then severity, code and message.
  assert.match(r.stdout, /^Service team-bravo-1\/ksvc$/m);
  assert.match(r.stdout, /error SM5001 team-alpha-1 → team-bravo-1\/ksvc via activator/);
  assert.match(r.stdout, /fix: Restrict the tenant ALLOW policies/);
});

test('verify --from/--to explains hop by hop', () => {
  const r = cli('verify', '-f', 'examples/ossm2-tenants.yaml', '--from', 'team-alpha-1', '--to', 'team-bravo-1/ksvc', '--via', 'activator');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1\. team-alpha-1\/client → knative-serving\/activator :8012: DENY/);
  assert.match(r.stdout, /not reached/);
});

test('verify -m DIR reads every manifest below it, like `render --output-dir DIR` writes them', () => {
  const out = mkdtempSync(join(tmpdir(), 'verify-dir-'));
  const r = cli('render', '-f', 'examples/ossm2-tenants.yaml', '--output-dir', out, '--certs-dir', join(out, 'certs'));
  assert.equal(r.status, 0, r.stderr);
  const fromDir = cli('verify', '-m', out, '-o', 'json');
  const fromSpec = cli('verify', '-f', 'examples/ossm2-tenants.yaml', '-o', 'json');
  assert.equal(fromDir.status, 0, fromDir.stderr);
  assert.deepEqual(JSON.parse(fromDir.stdout), JSON.parse(fromSpec.stdout));
});

test('authz --request names the shadow verdict of dry-run policies (text and JSON)', () => {
  const f = join(dir, 'dry-run.yaml');
  writeFileSync(
    f,
    `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-allow-path, namespace: ns1, annotations: {istio.io/dry-run: "true"}}
spec:
  selector: {matchLabels: {app: b}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/allow"]}}]}]
`,
  );
  const text = cli('authz', '-m', f, '--request', request());
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^ALLOW: .*\ndry-run DENY: shadow denied by ns1\/deny-allow-path rules\[0\]\n$/);
  const json = JSON.parse(cli('authz', '-m', f, '--request', request(), '-o', 'json').stdout) as { shadow: unknown };
  assert.deepEqual(json.shadow, [{ action: 'DENY', result: 'denied', policy: 'ns1/deny-allow-path', rule: 0 }]);
});
