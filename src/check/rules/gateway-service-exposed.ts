import { SERVICE } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { get, str } from '../util.ts';

export const gatewayServiceExposed: Rule = {
  meta: {
    code: 'SM1002',
    name: 'gateway-service-exposed',
    severity: 'error',
    title: 'Mesh ingress gateway Service exposed as NodePort or LoadBalancer',
    description:
      'External Knative Services are reached through OpenShift Routes; exposing the ingress gateway (istio-ingressgateway or knative-local-gateway) directly with a NodePort or LoadBalancer Service is not supported.',
    source: 'seed 001 §1.4.1 "Verifying installation prerequisites" step 2 and its note',
    fix: 'Set the gateway Service type to ClusterIP and expose Knative Services through OpenShift Routes.',
    inputs: [SERVICE],
  },
  check(ctx) {
    const out: Hit[] = [];
    const names = new Set(['istio-ingressgateway', 'knative-local-gateway']);
    const ingress = ctx.profile?.gateway.ingressService;
    if (ingress) names.add(ingress.name);
    for (const s of ctx.index.of(SERVICE)) {
      if (!names.has(s.metadata.name)) continue;
      const type = str(get(s, 'spec', 'type'));
      if (type === 'NodePort' || type === 'LoadBalancer')
        out.push({
          object: s,
          message: `gateway Service ${s.metadata.namespace ?? 'default'}/${s.metadata.name} is of type ${type}`,
          path: ['spec', 'type'],
        });
    }
    return out;
  },
};
