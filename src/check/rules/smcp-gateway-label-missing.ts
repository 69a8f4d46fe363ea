import { SMCP, SMMR } from '../context.ts';
import type { Rule } from '../types.ts';
import { get } from '../util.ts';

export const smcpGatewayLabelMissing: Rule = {
  meta: {
    code: 'SM1005',
    name: 'smcp-gateway-label-missing',
    severity: 'error',
    title: 'Ingress gateway without the knative: ingressgateway label',
    description:
      'knative-ingress-gateway and knative-local-gateway select the gateway pods by `knative: ingressgateway`; without it on spec.gateways.ingress.service.metadata.labels no pod serves Knative traffic.',
    source: 'seed 001 §1.4.2 step 1 (callout 3)',
    fix: 'Add spec.gateways.ingress.service.metadata.labels.knative: ingressgateway to the ServiceMeshControlPlane.',
    inputs: [SMCP],
  },
  check(ctx) {
    if (ctx.index.has(SMMR) && !ctx.meshNamespaces.has('knative-serving')) return []; // Kourier variant: no Knative Istio gateways
    return ctx.index
      .of(SMCP)
      .filter((s) => get(s, 'spec', 'gateways', 'ingress', 'service', 'metadata', 'labels', 'knative') !== 'ingressgateway')
      .map((s) => ({
        object: s,
        message: `ServiceMeshControlPlane ${s.metadata.namespace}/${s.metadata.name}: ingress gateway lacks label knative: ingressgateway`,
        path: ['spec', 'gateways', 'ingress', 'service', 'metadata', 'labels'],
      }));
  },
};
