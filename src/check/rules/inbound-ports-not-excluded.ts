import { ISTIO_CR, SMCP } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { get, portList } from '../util.ts';

export const inboundPortsNotExcluded: Rule = {
  meta: {
    code: 'SM1006',
    name: 'inbound-ports-not-excluded',
    severity: 'warning',
    title: 'Ports 8444 / 8022 not excluded from inbound capture',
    description:
      'Port 8444 (kube-rbac-proxy metrics, scraped by cluster monitoring) and 8022 (queue-proxy wait-for-drain, called by the kubelet PreStop hook) are called from outside the mesh without mTLS and must bypass the sidecar.',
    source: 'seed 001 §1.4.2 step 1 (callout 4) and "Enabling … metrics" step 2; research users-and-anchors.md P4',
    fix: 'List the ports in spec.proxy.networking.trafficControl.inbound.excludedPorts (SMCP) or spec.values.global.proxy.excludeInboundPorts (Istio CR).',
    inputs: [SMCP, ISTIO_CR],
  },
  check(ctx) {
    const need = ctx.profile?.excludedInboundPorts ?? [8444, 8022];
    const out: Hit[] = [];
    const look = (o: (typeof ctx.index.objects)[number], path: string[]) => {
      const have = new Set(portList(get(o, ...path)));
      const missing = need.filter((p) => !have.has(p));
      if (missing.length)
        out.push({
          object: o,
          message: `${o.kind} ${o.metadata.name}: inbound port(s) ${missing.join(', ')} not excluded from the sidecar`,
          path,
        });
    };
    for (const s of ctx.index.of(SMCP)) look(s, ['spec', 'proxy', 'networking', 'trafficControl', 'inbound', 'excludedPorts']);
    for (const i of ctx.index.of(ISTIO_CR)) look(i, ['spec', 'values', 'global', 'proxy', 'excludeInboundPorts']);
    return out;
  },
};
