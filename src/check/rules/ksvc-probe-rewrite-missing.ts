import { REWRITE_PROBES } from '../../model/constants.ts';
import { KSVC } from '../context.ts';
import type { Rule } from '../types.ts';
import { get, rec } from '../util.ts';
import { meshKsvcs, ref } from './ksvc-mesh.ts';

export const ksvcProbeRewriteMissing: Rule = {
  meta: {
    code: 'SM3003',
    name: 'ksvc-probe-rewrite-missing',
    severity: 'warning',
    title: 'Knative Service without probe rewriting where the flavour needs it',
    description:
      'Under STRICT mTLS the kubelet (no mesh certificate) cannot probe the pod unless the sidecar rewrites HTTP probes. Where the flavour profile does not rewrite by default (OSSM 2) the template needs sidecar.istio.io/rewriteAppHTTPProbers: "true".',
    source: 'seed 001 §1.4.4 step 1; research users-and-anchors.md P11',
    fix: `Add the annotation ${REWRITE_PROBES}: "true" to spec.template.metadata.annotations.`,
    inputs: [KSVC, 'ServiceMeshMemberRoll.maistra.io', 'Namespace'],
  },
  check(ctx) {
    if (!ctx.profile?.injection.optIn.annotations?.[REWRITE_PROBES]) return [];
    return meshKsvcs(ctx)
      .filter((k) => rec(get(k, 'spec', 'template', 'metadata', 'annotations'))[REWRITE_PROBES] !== 'true')
      .map((k) => ({
        object: k,
        message: `Knative Service ${ref(k)} lacks ${REWRITE_PROBES}: "true" on its revision template`,
        path: ['spec', 'template', 'metadata'],
      }));
  },
};
