import { SERVING_NS } from '../../model/constants.ts';
import { KSERVING } from '../context.ts';
import type { Rule } from '../types.ts';
import { get } from '../util.ts';

export const knativeServingNotIstio: Rule = {
  meta: {
    code: 'SM2002',
    name: 'knative-serving-not-istio',
    severity: 'error',
    title: 'KnativeServing not on the Istio ingress while Knative is in the mesh',
    description:
      'knative-serving is part of the mesh but KnativeServing does not set spec.ingress.istio.enabled: true, so net-istio does not program the mesh gateways and Knative Services are not reachable through them.',
    source: 'seed 001 §1.4.3 step 1 (callout 1)',
    fix: 'Set spec.ingress.istio.enabled: true (and disable Kourier) on KnativeServing, or take knative-serving out of the mesh for the Kourier variant.',
    inputs: [KSERVING, 'ServiceMeshMemberRoll.maistra.io', 'Namespace'],
  },
  check(ctx) {
    if (!ctx.profile || !ctx.meshNamespaces.has(SERVING_NS)) return [];
    return ctx.index
      .of(KSERVING)
      .filter((k) => get(k, 'spec', 'ingress', 'istio', 'enabled') !== true)
      .map((k) => ({
        object: k,
        message: `KnativeServing ${k.metadata.namespace}/${k.metadata.name} does not enable the Istio ingress although ${SERVING_NS} is in the mesh`,
        path: ['spec', 'ingress'],
      }));
  },
};
