/**
 * Interrupted applies against a real apiserver of their own (this file stops and restarts it):
 * the apiserver going away mid-apply, and the CLI SIGKILLed mid-apply. Both must converge on re-run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { SPEC_LABEL } from '../../src/cluster/plan.ts';
import { render } from '../../src/render/index.ts';
import type { ServerlessMesh } from '../../src/spec/types.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';
import { adminClient, cli, fakeOperators, list, R, requireCluster, runCli, specFile, waitUntil } from './helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

function bigSpec(name: string, tenants: number): ServerlessMesh {
  const m = structuredClone(example('ossm2-tenants'));
  m.metadata.name = name;
  m.spec.tenants = Array.from({ length: tenants }, (_, i) => ({ name: `${name}-t${i}`, namespaces: [`${name}-t${i}-a`, `${name}-t${i}-b`] }));
  return m;
}

const count = async (c: KubeClient, spec: string) =>
  (await list(c, R.ap, `${SPEC_LABEL}=${spec}`)).length + (await list(c, R.namespace, `${SPEC_LABEL}=${spec}`)).length;

describe('interrupted apply converges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-disruption-'));
  let env: Record<string, string>;
  let c: KubeClient;
  let stopOperators: () => Promise<void>;

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
    const mesh = bigSpec('outage', 80);
    const path = specFile(mesh);
    const expected = render(mesh, { tls: TEST_TLS }).filter((o) => o.kind === 'AuthorizationPolicy' || o.kind === 'Namespace').length;
    const run = cli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    await waitUntil('some policies applied', async () => (await list(c, R.ap, `${SPEC_LABEL}=outage`)).length > 20, 60_000);
    await testEnv.stopProcess(dir, 'kube-apiserver');
    const res = await run.done;
    assert.equal(res.code, 1, res.stderr);
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
    const mesh = bigSpec('killed', 80);
    const path = specFile(mesh);
    const expected = render(mesh, { tls: TEST_TLS }).filter((o) => o.kind === 'AuthorizationPolicy' || o.kind === 'Namespace').length;
    const run = cli(['apply', '-f', path], { KUBECONFIG: env.KUBECONFIG });
    await waitUntil('some policies applied', async () => (await list(c, R.ap, `${SPEC_LABEL}=killed`)).length > 20, 60_000);
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
});
