import { SERVING_NS } from '../../model/constants.ts';
import { GATEWAY } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, strs } from '../util.ts';

export const gatewayWildcard443Conflict: Rule = {
  meta: {
    code: 'SM1001',
    name: 'gateway-wildcard-443-conflict',
    severity: 'error',
    title: 'Another Gateway binds port 443 with hosts "*"',
    description:
      'Service Mesh lets only one Gateway claim the wildcard host on port 443. A Gateway outside knative-serving in the same mesh that binds 443 with hosts ["*"] interferes with knative-ingress-gateway.',
    source: 'seed 001 §1.4.1 "Verifying installation prerequisites" step 1 and its note',
    fix: 'Move the other Gateway to a different mesh (Serverless needs a mesh of its own), or narrow its hosts.',
    inputs: [GATEWAY],
  },
  check(ctx) {
    const out: Hit[] = [];
    for (const g of ctx.index.of(GATEWAY)) {
      const ns = g.metadata.namespace ?? 'default';
      if (ns === SERVING_NS) continue;
      // Gateways of another mesh instance do not conflict (the seed's exception); unknown membership: assume same mesh.
      if (ctx.meshNamespaces.size > 0 && !ctx.meshNamespaces.has(ns)) continue;
      arr(get(g, 'spec', 'servers')).forEach((s, i) => {
        const hosts = strs(get(s, 'hosts'));
        if (Number(get(s, 'port', 'number')) === 443 && hosts.some((h) => h === '*' || h === '*/*'))
          out.push({
            object: g,
            message: `Gateway ${ns}/${g.metadata.name} binds port 443 with hosts "*", which knative-serving/knative-ingress-gateway needs`,
            path: ['spec', 'servers', i, 'hosts'],
          });
      });
    }
    return out;
  },
};
