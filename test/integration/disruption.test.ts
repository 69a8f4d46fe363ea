/**
 * Failures against a real apiserver of this file's own (it stops, restarts, throttles it and installs a
 * webhook): the apiserver going away mid-apply, the CLI SIGKILLed mid-apply (both must converge on
 * re-run), 429 throttling (retried), an admission webhook denial, and a missing CRD.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { SPEC_LABEL } from '../../src/cluster/plan.ts';
import { render } from '../../src/render/index.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';
import { adminClient, cli, fakeOperators, list, R, requireCluster, runCli, specFile, waitUntil } from './helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

function bigSpec(name: string, tenants: number): ServerlessMesh {
  const m = structuredClone(example('ossm2-tenants'));
  m.metadata.name = name;
  m.spec.tenants = Array.from({ length: tenants }, (_, i) => ({
    name: `${name}-t${i}`,
    namespaces: [`${name}-t${i}-a`, `${name}-t${i}-b`],
  }));
  return m;
}

const count = async (c: KubeClient, spec: string) =>
  (await list(c, R.ap, `${SPEC_LABEL}=${spec}`)).length + (await list(c, R.namespace, `${SPEC_LABEL}=${spec}`)).length;

describe('interrupted apply converges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-disruption-'));
  let env: Record<string, string>;
  let c: KubeClient;
  let stopOperators: () => Promise<void>;

  /** Starts `apply` of an 80-tenant spec and returns once it has written some policies. */
  async function applyUnderway(name: string) {
    const mesh = bigSpec(name, 80);
    const path = specFile(mesh);
    const expected = render(mesh, { tls: TEST_TLS }).filter((o) => o.kind === 'AuthorizationPolicy' || o.kind === 'Namespace').length;
    const run = cli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    await waitUntil('some policies applied', async () => (await list(c, R.ap, `${SPEC_LABEL}=${name}`)).length > 20, 60_000);
    return { path, expected, run };
  }

  before(async () => {
    requireCluster(); // the run's own apiserver proves the toolchain is installed
    env = await testEnv.start({ dir, controllerManager: false });
    c = adminClient(env.KUBECONFIG);
    stopOperators = fakeOperators(c);
  });
  after(async () => {
    await stopOperators?.();
    c?.close();
    await testEnv.stop({ dir, quiet: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('apiserver stopped mid-apply: clear error and summary; re-run converges', async () => {
    const { path, expected, run } = await applyUnderway('outage');
    await testEnv.stopProcess(dir, 'kube-apiserver');
    const res = await run.done;
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /cluster https:\/\/127\.0\.0\.1:\d+ unreachable: .*ECONNREFUSED/);
    assert.match(res.stderr, /\d+ applied, \d+ unchanged, 0 pruned, 0 namespaces released, \d+ failed, \d+ not applied/);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'a stack trace is not a clear error');

    await testEnv.restartApiserver(dir);
    const again = await runCli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await count(c, 'outage'), expected);
    const third = await runCli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    assert.match(third.stderr, /^0 applied, \d+ unchanged, 0 pruned/m);
  });

  it('CLI killed with SIGKILL mid-apply: re-run converges with nothing lost', async () => {
    const { path, expected, run } = await applyUnderway('killed');
    run.child.kill('SIGKILL');
    const res = await run.done;
    assert.equal(res.signal, 'SIGKILL');
    const partial = await count(c, 'killed');
    assert.ok(partial < expected, `kill came too late to test anything (${partial}/${expected})`);

    const again = await runCli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await count(c, 'killed'), expected);
    // Objects written before the kill are recognised as ours and unchanged, not re-created.
    assert.match(again.stderr, /[1-9]\d* unchanged/);
    const third = await runCli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    assert.match(third.stderr, /^0 applied, \d+ unchanged, 0 pruned/m);
  });

  it('429 from a throttled apiserver is retried with backoff until the apply succeeds', async () => {
    // One mutating request at a time, no priority-and-fairness queueing: 32 in flight get real 429s.
    await testEnv.stopProcess(dir, 'kube-apiserver');
    await testEnv.restartApiserver(dir, [
      '--enable-priority-and-fairness=false',
      '--max-mutating-requests-inflight=1',
      '--max-requests-inflight=400',
    ]);
    try {
      // system:masters is exempt from the in-flight limit, so write as the second user (admin here).
      await c.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'limited-admin' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'User', name: 'limited', apiGroup: 'rbac.authorization.k8s.io' }],
        },
      });
      const mesh = bigSpec('throttled', 8);
      const res = await runCli(
        ['apply', '-f', specFile(mesh), '--concurrency', '32', '--kubeconfig', env.SERVERLESS_MESH_TEST_KUBECONFIG_LIMITED!],
        {},
      );
      assert.equal(res.code, 0, res.stderr);
      const expected = render(mesh, { tls: TEST_TLS }).filter((o) => o.kind === 'AuthorizationPolicy' || o.kind === 'Namespace').length;
      assert.equal(await count(c, 'throttled'), expected);
      const text = await metricsText(c);
      // The max-in-flight filter rejects before request metrics are recorded; 1.20 counts those as dropped.
      const throttled = [
        ...text.matchAll(/^(?:apiserver_dropped_requests_total\{[^}]*\}|apiserver_request_total\{[^}]*code="429"[^}]*\}) (\d+)/gm),
      ].reduce((n, m) => n + Number(m[1]), 0);
      assert.ok(throttled > 0, 'the apiserver never answered 429: the test did not exercise the retry');
    } finally {
      await testEnv.stopProcess(dir, 'kube-apiserver');
      await testEnv.restartApiserver(dir);
    }
  });

  it('admission webhook denial: one clear line naming the webhook and its reason', async () => {
    const hook = await startDenyWebhook();
    try {
      await c.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
        body: {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingWebhookConfiguration',
          metadata: { name: 'sm-test-deny' },
          webhooks: [
            {
              name: 'deny.policies.sm-test.example.com',
              clientConfig: { url: `https://127.0.0.1:${hook.port}/validate`, caBundle: Buffer.from(hook.caPem).toString('base64') },
              rules: [
                {
                  apiGroups: ['security.istio.io'],
                  apiVersions: ['*'],
                  operations: ['CREATE', 'UPDATE'],
                  resources: ['authorizationpolicies'],
                },
              ],
              objectSelector: { matchLabels: { [SPEC_LABEL]: 'hooked' } },
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              timeoutSeconds: 5,
            },
          ],
        },
      });
      const mesh = bigSpec('hooked', 1);
      const res = await runCli(['apply', '-f', specFile(mesh)], { KUBECONFIG: env.KUBECONFIG });
      assert.equal(res.code, 3, res.stderr);
      assert.match(
        res.stderr,
        /AuthorizationPolicy\/[^:]+: denied by admission webhook: admission webhook "deny\.policies\.sm-test\.example\.com" denied the request: policies need a change ticket/,
      );
      assert.match(res.stderr, /0 pruned, 0 namespaces released, [1-9]\d* failed/);
    } finally {
      await c.request('DELETE', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/sm-test-deny').catch(() => {});
      hook.server.close();
    }
  });

  it('a CRD the spec needs is missing: exit 3 naming the operator to install', async () => {
    await c.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/knativekafkas.operator.serverless.openshift.io');
    await waitUntil('KnativeKafka gone from discovery', async () => {
      const r = await c
        .request<{ resources: { kind: string }[] }>('GET', '/apis/operator.serverless.openshift.io/v1alpha1')
        .catch(() => ({ resources: [] }));
      return !r.resources.some((x) => x.kind === 'KnativeKafka');
    });
    const res = await runCli(['apply', '-f', 'examples/ossm2-kafka.yaml'], { KUBECONFIG: env.KUBECONFIG });
    assert.equal(res.code, 3, res.stderr);
    assert.match(
      res.stderr,
      /KnativeKafka \(operator\.serverless\.openshift\.io\/v1alpha1\) is not served by this cluster: install the OpenShift Serverless operator/,
    );
    // Checked before anything is written: no phase ran.
    assert.doesNotMatch(res.stderr, /Namespaces \(\d+\)/);
  });
});

async function metricsText(c: KubeClient): Promise<string> {
  // /metrics is text, not JSON: read it raw.
  try {
    return await c.request<string>('GET', '/metrics', { raw: true });
  } catch (e) {
    throw new Error(`reading /metrics: ${(e as Error).message}`, { cause: e });
  }
}

/** A validating webhook on 127.0.0.1 that denies everything it is asked about. */
async function startDenyWebhook(): Promise<{ server: Server; port: number; caPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: alg,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const caPem = cert.toString('pem');
  const server = createServer({ key: keyPem, cert: caPem }, (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const review = JSON.parse(body) as { request: { uid: string } };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: false, status: { code: 403, message: 'policies need a change ticket' } },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, caPem };
}
