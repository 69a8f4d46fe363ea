import { CERT_UID, SECRET_FILTERING_ENV, SERVING_NS } from '../../model/constants.ts';
import type { KubeObject } from '../../util/kube.ts';
import { DOMAIN_MAPPING, GATEWAY, KSERVING, SECRET } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, str } from '../util.ts';

/** The operator injects ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID=true unless the KnativeServing overrides it with "false". */
function filteringOn(ks: readonly KubeObject[]): boolean {
  for (const k of ks)
    for (const w of arr(get(k, 'spec', 'workloads')))
      if (get(w, 'name') === 'net-istio-controller')
        for (const e of arr(get(w, 'env')))
          for (const v of arr(get(e, 'envVars')))
            if (get(v, 'name') === SECRET_FILTERING_ENV && String(get(v, 'value')).toLowerCase() === 'false') return false;
  return true;
}

export const tlsSecretNotLabelled: Rule = {
  meta: {
    code: 'SM2007',
    name: 'tls-secret-not-labelled',
    severity: 'error',
    title: 'TLS Secret invisible to net-istio under secret filtering',
    description: `With secret filtering on (the OpenShift Serverless default, ${SECRET_FILTERING_ENV}=true) net-istio only sees Secrets labelled ${CERT_UID}; a TLS Secret referenced by a Knative Gateway (credentialName) or a DomainMapping (spec.tls.secretName) without the label silently stops working. Reads Secrets as metadata only.`,
    source: 'seed 001 "Improving net-istio memory usage by using secret filtering" important box; research users-and-anchors.md P27',
    fix: `Label the Secret ${CERT_UID}: "<id>" (any value), or switch filtering off on net-istio-controller.`,
    inputs: [SECRET, GATEWAY, DOMAIN_MAPPING, KSERVING],
  },
  check(ctx) {
    if (!filteringOn(ctx.index.of(KSERVING))) return [];
    const out: Hit[] = [];
    const seen = new Set<KubeObject>();
    const look = (ns: string, name: string | undefined, by: string) => {
      if (!name) return;
      const s = ctx.index.get(SECRET, ns, name);
      if (!s || seen.has(s) || s.metadata.labels?.[CERT_UID] !== undefined) return;
      seen.add(s);
      out.push({
        object: s,
        message: `Secret ${ns}/${name}, referenced by ${by}, lacks label ${CERT_UID}: net-istio does not see it while secret filtering is on`,
        path: ['metadata'],
      });
    };
    // Gateway credentialName is read in the gateway pods' namespace (istio-semantics.md §4.4).
    const gwNs = ctx.profile?.gateway.namespace(ctx.meshNamespace) ?? ctx.meshNamespace;
    for (const g of ctx.index.of(GATEWAY)) {
      if (g.metadata.namespace !== SERVING_NS) continue;
      for (const s of arr(get(g, 'spec', 'servers')))
        look(gwNs, str(get(s, 'tls', 'credentialName')), `Gateway ${SERVING_NS}/${g.metadata.name}`);
    }
    for (const d of ctx.index.of(DOMAIN_MAPPING)) {
      const ns = d.metadata.namespace ?? 'default';
      look(ns, str(get(d, 'spec', 'tls', 'secretName')), `DomainMapping ${ns}/${d.metadata.name}`);
    }
    return out;
  },
};
