import { DISABLE_NETPOL } from '../../model/constants.ts';
import { KEVENTING, KSERVING, SMCP } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { annotations, get } from '../util.ts';

export const networkPolicyAnnotationMissing: Rule = {
  meta: {
    code: 'SM1008',
    name: 'network-policy-annotation-missing',
    severity: 'error',
    title: 'manageNetworkPolicy: false without the disable annotation on the Knative CRs',
    description:
      "With the ServiceMeshControlPlane's manageNetworkPolicy false, the operator-generated NetworkPolicies must be switched off on both KnativeServing and KnativeEventing, or event delivery breaks.",
    source: 'seed 001 "Disabling the default network policies" note; "Enabling … metrics" note',
    fix: `Annotate KnativeServing and KnativeEventing with ${DISABLE_NETPOL}: "true".`,
    inputs: [SMCP, KSERVING, KEVENTING],
  },
  check(ctx) {
    if (!ctx.index.of(SMCP).some((s) => get(s, 'spec', 'security', 'manageNetworkPolicy') === false)) return [];
    const out: Hit[] = [];
    for (const k of [...ctx.index.of(KSERVING), ...ctx.index.of(KEVENTING)])
      if (annotations(k)[DISABLE_NETPOL] !== 'true')
        out.push({
          object: k,
          message: `${k.kind} ${k.metadata.namespace}/${k.metadata.name} lacks ${DISABLE_NETPOL}: "true" while the control plane does not manage NetworkPolicies`,
          path: ['metadata', 'annotations'],
        });
    return out;
  },
};
