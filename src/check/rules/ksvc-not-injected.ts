import { INJECT } from '../../model/constants.ts';
import { KSVC } from '../context.ts';
import type { Rule } from '../types.ts';
import { get, rec } from '../util.ts';
import { meshKsvcs, ref } from './ksvc-mesh.ts';

export const ksvcNotInjected: Rule = {
  meta: {
    code: 'SM3002',
    name: 'ksvc-not-injected',
    severity: 'error',
    title: 'Knative Service in the mesh without a sidecar',
    description:
      'Revision pods of a mesh namespace need a sidecar: on OSSM 2 (per-pod opt-in) the template label sidecar.istio.io/inject: "true"; where namespaces are injection-labelled, no opt-out. Without it STRICT mTLS refuses every mesh caller.',
    source: 'seed 001 §1.4.4 step 1 (callout 3); research users-and-anchors.md P20',
    fix: 'Add the label sidecar.istio.io/inject: "true" to spec.template.metadata.labels (or remove the "false" opt-out).',
    inputs: [KSVC, 'ServiceMeshMemberRoll.maistra.io', 'Namespace'],
  },
  check(ctx) {
    const optIn = ctx.profile?.injection.mode === 'pod-opt-in';
    return meshKsvcs(ctx).flatMap((k) => {
      const l = rec(get(k, 'spec', 'template', 'metadata', 'labels'))[INJECT];
      const a = rec(get(k, 'spec', 'template', 'metadata', 'annotations'))[INJECT];
      const v = l ?? a;
      const bad = optIn ? v !== 'true' : v === 'false';
      return bad
        ? [
            {
              object: k,
              message: `Knative Service ${ref(k)}: revision pods get no sidecar (${INJECT} is ${v === undefined ? 'not set' : JSON.stringify(v)})`,
              path: ['spec', 'template', 'metadata'],
            },
          ]
        : [];
    });
  },
};
