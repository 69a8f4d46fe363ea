import type { ServerlessMesh } from '../api/types.ts';
import type { TlsMaterial } from '../render/tls-secret.ts';
import { prepareTls } from '../certs/prepare.ts';
import { profileFor } from '../flavors/index.ts';
import { ClusterError } from '../util/errors.ts';
import { ApiError, KubeClient, UnreachableError, type ClientOptions } from './client.ts';
import { Discovery } from './discovery.ts';
import { loadKubeConfig, type KubeconfigOptions } from './kubeconfig.ts';
import { describeError, getObject } from './ops.ts';
import type { ClusterSession } from './apply.ts';

/** kubeconfig → client → a reachability probe with a deadline, so a dead cluster fails fast and clearly. */
export async function connect(opts: KubeconfigOptions & ClientOptions = {}): Promise<ClusterSession & { version: string }> {
  const kc = loadKubeConfig(opts);
  const client = new KubeClient(kc, opts);
  try {
    const v = await client.request<{ gitVersion?: string }>('GET', '/version', { timeoutMs: 10_000, retries: 2 });
    return { client, discovery: new Discovery(client), version: v.gitVersion ?? '?' };
  } catch (e) {
    client.close();
    if (e instanceof UnreachableError) throw new ClusterError(e.message);
    if (e instanceof ApiError)
      throw new ClusterError(`cluster ${client.server}: ${describeError(e, 'get', undefined).replace(/^request: /, '')}`);
    throw e;
  }
}

/**
 * TLS material for `tls.generate`: the key pair already in the cluster when there is one (re-apply must
 * not rotate the certificate), otherwise a new one. The key stays in memory; it is never printed.
 */
export async function tlsForApply(s: ClusterSession, mesh: ServerlessMesh): Promise<TlsMaterial | undefined> {
  if (!mesh.spec.tls.generate) return undefined;
  const info = await s.discovery.resolve('v1', 'Secret');
  if (info) {
    try {
      // Where the render puts it: the gateway's namespace (the mesh namespace on OSSM 2, knative-serving-ingress otherwise).
      const ns = profileFor(mesh.spec.mesh.flavor).gateway.namespace(mesh.spec.mesh.namespace);
      const live = await getObject(s.client, info, ns, mesh.spec.tls.secretName);
      const data = live?.data as Record<string, string> | undefined;
      if (data?.['tls.crt'] && data['tls.key']) {
        return {
          certPem: Buffer.from(data['tls.crt'], 'base64').toString('utf8'),
          keyPem: Buffer.from(data['tls.key'], 'base64').toString('utf8'),
        };
      }
    } catch (e) {
      // Not allowed to read Secrets: fall through and generate; the apply reports what it must.
      if (!(e instanceof ApiError && e.code === 403)) throw e;
    }
  }
  return prepareTls(mesh);
}
