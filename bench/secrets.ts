import type { KubeClient } from '../src/cluster/client.ts';
import type { Discovery } from '../src/cluster/discovery.ts';
import { serverSideApply } from '../src/cluster/ops.ts';

/** `n` unrelated Secrets (1 KiB of data each, no labels of ours) in `namespace`, 100 requests in flight. */
export async function createSecrets(client: KubeClient, discovery: Discovery, n: number, namespace = 'bench-secrets'): Promise<void> {
  const ns = (await discovery.resolve('v1', 'Namespace'))!;
  const secret = (await discovery.resolve('v1', 'Secret'))!;
  await serverSideApply(client, ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { force: true });
  const blob = Buffer.alloc(1024, 'x').toString('base64');
  for (let i = 0; i < n; i += 100)
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        serverSideApply(
          client,
          secret,
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i + j}`, namespace }, type: 'Opaque', data: { blob } },
          { force: true },
        ),
      ),
    );
}
