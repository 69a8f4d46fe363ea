import { KSERVING, SERVICE } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { get, rec } from '../util.ts';

export const gatewayConfigMissingService: Rule = {
  meta: {
    code: 'SM2004',
    name: 'gateway-config-missing-service',
    severity: 'error',
    title: 'config.istio gateway points at a Service that does not exist',
    description:
      'KnativeServing spec.config.istio maps each Knative Gateway to the Service of the gateway pods (`<service>.<namespace>.svc.cluster.local`). When Istio runs elsewhere than istio-system the namespace must be changed; a host naming a missing Service leaves Knative Services unreachable.',
    source: 'seed 001 §1.4.3 step 1 (callout 3)',
    fix: 'Point gateway.knative-serving.knative-ingress-gateway and local-gateway.knative-serving.knative-local-gateway at the gateway Services of the mesh namespace.',
    inputs: [KSERVING, SERVICE],
  },
  check(ctx) {
    const out: Hit[] = [];
    // Services created by the control plane (OSSM 2's istio-ingressgateway) are not among manifests: the
    // profile's gateway namespace counts as having them unless Services of that namespace were given.
    const gwNs = ctx.profile?.gateway.namespace(ctx.meshNamespace);
    const nsWithServices = new Set(ctx.index.of(SERVICE).map((s) => s.metadata.namespace ?? 'default'));
    for (const k of ctx.index.of(KSERVING)) {
      for (const [key, v] of Object.entries(rec(get(k, 'spec', 'config', 'istio')))) {
        if (!/^(local-)?gateway\./.test(key) || typeof v !== 'string') continue;
        const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(v);
        if (!m) continue;
        const [, name, ns] = m as unknown as [string, string, string];
        if (ctx.index.get(SERVICE, ns, name)) continue;
        if (ns === gwNs && !nsWithServices.has(ns)) continue;
        const ingress = ctx.profile?.gateway.ingressService;
        if (ns === gwNs && ingress && 'external' in ingress && ingress.name === name) continue; // the control plane creates it
        out.push({
          object: k,
          message: `KnativeServing ${k.metadata.namespace}/${k.metadata.name}: config.istio ${key} names Service ${ns}/${name}, which does not exist`,
          path: ['spec', 'config', 'istio', key],
        });
      }
    }
    return out;
  },
};
