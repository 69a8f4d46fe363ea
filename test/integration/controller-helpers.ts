import yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/cluster/client.ts';
import { CRD_NAME } from '../../src/controller/crd.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { ROOT } from '../helpers/shared.ts';
import { waitUntil } from './helpers.ts';

/** Installs the committed deploy/crd.yaml (server-side apply) and waits until it is Established. */
export async function installCrd(c: KubeClient): Promise<void> {
  const crd = yaml.load(readFileSync(join(ROOT, 'deploy/crd.yaml'), 'utf8')) as KubeObject;
  await c.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`, {
    body: crd,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'test', force: true },
  });
  await waitUntil('the ServerlessMesh CRD is established', async () => {
    const o = await c.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`,
    );
    return !!o.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
  });
}
