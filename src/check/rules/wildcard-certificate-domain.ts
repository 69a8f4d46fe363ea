import { SERVING_NS } from '../../model/constants.ts';
import { GATEWAY, SECRET } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, str } from '../util.ts';
import { certificateDnsNames, nameCovers } from '../x509-dns-names.ts';

const OPENSHIFT_INGRESS = 'Ingress.config.openshift.io';

export const wildcardCertificateDomain: Rule = {
  meta: {
    code: 'SM2011',
    name: 'wildcard-certificate-domain',
    severity: 'error',
    title: "Gateway certificate does not cover the cluster's apps domain",
    description:
      "Knative Services are served on <ksvc>-<namespace>.<apps domain> through knative-ingress-gateway with the wildcard certificate (passthrough Routes): a certificate without a *.<apps domain> subjectAltName makes every external call fail TLS verification. The apps domain is the OpenShift Ingress config's spec.domain. Decided only where the Secret's data is among the inputs (files); --cluster reads Secrets as metadata only.",
    source: 'seed 001 §1.1 (creating a certificate to encrypt incoming external traffic), §1.3',
    fix: 'Issue the gateway certificate for *.<apps domain> (serverless-mesh certs --domain <apps domain>) and replace the Secret.',
    inputs: [GATEWAY, SECRET, OPENSHIFT_INGRESS],
  },
  check(ctx) {
    const ingress = ctx.index.of(OPENSHIFT_INGRESS).find((i) => i.metadata.name === 'cluster');
    const domain = str(get(ingress, 'spec', 'domain'));
    if (!domain) return [];
    const probe = `ksvc-namespace.${domain}`;
    const out: Hit[] = [];
    // credentialName is read in the gateway pods' namespace (istio-semantics.md §4.4).
    const gwNs = ctx.profile?.gateway.namespace(ctx.meshNamespace) ?? ctx.meshNamespace;
    for (const g of ctx.index.of(GATEWAY)) {
      if (g.metadata.namespace !== SERVING_NS || g.metadata.name !== 'knative-ingress-gateway') continue;
      for (const s of arr(get(g, 'spec', 'servers'))) {
        const name = str(get(s, 'tls', 'credentialName'));
        const secret = name ? ctx.index.get(SECRET, gwNs, name) : undefined;
        const crt = str(get(secret, 'data', 'tls.crt'));
        if (!secret || !crt) continue;
        const names = certificateDnsNames(Buffer.from(crt, 'base64').toString('utf8'));
        if (names === undefined) {
          out.push({ object: secret, message: `Secret ${gwNs}/${name}: data.tls.crt is not a PEM certificate`, path: ['data', 'tls.crt'] });
        } else if (!names.some((n) => nameCovers(n, probe))) {
          const has = names.length ? names.join(', ') : 'no DNS names';
          out.push({
            object: secret,
            message: `Secret ${gwNs}/${name} (served by Gateway ${SERVING_NS}/${g.metadata.name}) is valid for ${has}, not *.${domain}`,
            path: ['data', 'tls.crt'],
          });
        }
      }
    }
    return out;
  },
};
