/**
 * The controller's watches after 410 Gone, on an apiserver of this file's own: restarting the apiserver
 * empties its watch cache, which then starts at the current etcd revision; a watch resumed from the
 * resourceVersion the controller saw before is older than that and is answered with 410 Gone
 * ("too old resource version"). The controller must list again and keep repairing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { resourcePath } from '../../src/cluster/ops.ts';
import { SPEC_LABEL } from '../../src/cluster/plan.ts';
import { CR_RESOURCE } from '../../src/controller/crd.ts';
import { R, adminClient, fakeOperators, get, list, requireCluster, waitUntil } from './helpers.ts';
import { installCrd, startController, stopController, type Controller } from './controller-helpers.ts';
// @ts-expect-error plain ESM script without types
import * as testEnv from '../../scripts/test-env.mjs';

const NAME = 'relist';

describe('controller watches relist after 410 Gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-ctl-relist-'));
  let env: Record<string, string>;
  let c: KubeClient;
  let stopOperators: () => Promise<void>;
  let ctl: Controller | undefined;

  const ready = async () => {
    const o = await get(c, CR_RESOURCE, undefined, NAME);
    const gen = (o?.metadata as { generation?: number } | undefined)?.generation;
    const conds = (o?.status as { conditions?: { type: string; status: string; observedGeneration?: number }[] } | undefined)?.conditions;
    return !!conds?.some((x) => x.type === 'Ready' && x.status === 'True' && x.observedGeneration === gen);
  };

  before(async () => {
    requireCluster(); // the run's own apiserver proves the toolchain is installed
    env = await testEnv.start({ dir, controllerManager: false });
    c = adminClient(env.KUBECONFIG);
    await installCrd(c);
    stopOperators = fakeOperators(c);
    // A resync far beyond the test: whatever is repaired here was seen through a watch.
    ctl = startController('relist', ['--no-leader-elect', '--resync', '30m'], { KUBECONFIG: env.KUBECONFIG });
    await ctl.port;
  });
  after(async () => {
    await stopController(ctl);
    await stopOperators?.();
    c?.close();
    await testEnv.stop({ dir, quiet: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('after an apiserver restart the watches get 410, list again, and an owned object deleted afterwards is restored', async () => {
    await c.request('PATCH', resourcePath(CR_RESOURCE, undefined, NAME), {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'test-user', force: true },
      body: {
        apiVersion: 'serverlessmesh.dev/v1alpha1',
        kind: 'ServerlessMesh',
        metadata: { name: NAME },
        spec: {
          mesh: { flavor: 'ossm2' },
          domain: 'apps.relist.example.com',
          tls: { secretName: 'relist-certs', generate: true },
          tenants: [
            { name: 'alpha', namespaces: ['relist-alpha'] },
            { name: 'bravo', namespaces: ['relist-bravo'] },
          ],
        },
      },
    });
    await waitUntil('Ready', ready, 90_000);
    const victim = (await list(c, R.ap, `${SPEC_LABEL}=${NAME}`)).find((x) => x.metadata.namespace === 'relist-alpha')!;
    assert.ok(victim);
    // Writes the controller's label-filtered watches do not see move the etcd revision past what they last saw.
    for (let i = 0; i < 5; i++)
      await c.request('POST', resourcePath(R.configmap, 'default'), {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'unrelated-' }, data: { i: String(i) } },
      });
    // Only what is logged after the restart counts: a watch may relist earlier too (seen under load, at
    // start, for the PeerAuthentication and Sidecar watches, which hold no object), and that is handled.
    const mark = ctl!.stderr().length;

    await testEnv.stopProcess(dir, 'kube-apiserver');
    await testEnv.restartApiserver(dir);
    await waitUntil(
      'the authorizationpolicies watch relisted after 410',
      () => Promise.resolve(/authorizationpolicies watch relisted \(410 Gone\)/.test(ctl!.stderr().slice(mark))),
      60_000,
    );

    const uid = victim.metadata.uid as string;
    await c.request('DELETE', resourcePath(R.ap, victim.metadata.namespace, victim.metadata.name));
    await waitUntil(
      'the AuthorizationPolicy deleted after the relist is back',
      async () => {
        const o = await get(c, R.ap, victim.metadata.namespace, victim.metadata.name);
        return !!o && o.metadata.uid !== uid;
      },
      30_000,
    );
    await waitUntil('Ready again', ready, 30_000);
  });
});
