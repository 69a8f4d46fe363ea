import type { V1Secret } from '@kubernetes/client-node';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import type { KubeObject } from '../util/kube.ts';
import { CERT_UID } from '../model/constants.ts';

export interface TlsMaterial {
  /** PEM certificate chain served by the ingress gateway. */
  certPem: string;
  /** PEM private key (PKCS#8). */
  keyPem: string;
}

/**
 * The `kubernetes.io/tls` Secret the ingress gateway serves (docs §1.3 step 4). It carries the
 * certificate-uid label so that net-istio still sees it when secret filtering is on (docs §1.7).
 */
export function tlsSecret(spec: ServerlessMeshSpec, profile: FlavorProfile, tls: TlsMaterial): KubeObject {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: spec.tls.secretName,
      // The gateway reads credentialName Secrets from its own namespace.
      namespace: profile.gateway.namespace(spec.mesh.namespace),
      labels: { [CERT_UID]: spec.tls.secretName },
    },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(tls.certPem).toString('base64'),
      'tls.key': Buffer.from(tls.keyPem).toString('base64'),
    },
  } satisfies V1Secret;
  return secret;
}
