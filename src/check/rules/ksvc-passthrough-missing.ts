import { PASSTHROUGH } from '../../model/constants.ts';
import { KSVC } from '../context.ts';
import type { Rule } from '../types.ts';
import { annotations } from '../util.ts';
import { meshKsvcs, ref } from './ksvc-mesh.ts';

export const ksvcPassthroughMissing: Rule = {
  meta: {
    code: 'SM3001',
    name: 'ksvc-passthrough-missing',
    severity: 'warning',
    title: 'Knative Service in the mesh without the passthrough annotation',
    description:
      'Without serving.knative.openshift.io/enablePassthrough: "true" the OpenShift Route terminates TLS at the router instead of passing it through to the ingress gateway, which serves the wildcard certificate.',
    source: 'seed 001 §1.4.4 step 1 (callout 2) and important box',
    fix: `Add the annotation ${PASSTHROUGH}: "true" to the Knative Service (serverless-mesh mesh-ify does it).`,
    inputs: [KSVC, 'ServiceMeshMemberRoll.maistra.io', 'Namespace'],
  },
  check: (ctx) =>
    meshKsvcs(ctx)
      .filter((k) => annotations(k)[PASSTHROUGH] !== 'true')
      .map((k) => ({ object: k, message: `Knative Service ${ref(k)} lacks ${PASSTHROUGH}: "true"`, path: ['metadata', 'annotations'] })),
};
