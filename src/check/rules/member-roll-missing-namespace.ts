import { EVENTING_NS, SERVING_NS } from '../../model/constants.ts';
import { KEVENTING, KSERVING, KSVC, SMMR } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { get, strs } from '../util.ts';

export const memberRollMissingNamespace: Rule = {
  meta: {
    code: 'SM2001',
    name: 'member-roll-missing-namespace',
    severity: 'error',
    title: 'Member roll lacks knative-serving, knative-eventing or a namespace hosting Knative Services',
    description:
      'The ServiceMeshMemberRoll must include knative-serving and knative-eventing, and every namespace whose Knative Services should be in the mesh; pods of other namespaces get no sidecar.',
    source: 'seed 001 §1.4.2 step 2 important box; §1.4.4 step 1 callout 1; research users-and-anchors.md P20',
    fix: 'Add the namespace to spec.members of the ServiceMeshMemberRoll (before the pods are created).',
    inputs: [SMMR, KSERVING, KEVENTING, KSVC],
  },
  check(ctx) {
    const out: Hit[] = [];
    for (const r of ctx.index.of(SMMR)) {
      const members = new Set(strs(get(r, 'spec', 'members')));
      // Kourier variant (seed §1.6): only user namespaces join; knative-serving stays out on purpose.
      const knativeInMesh = members.has(SERVING_NS) || members.has(EVENTING_NS);
      if (knativeInMesh || ctx.index.of(KSERVING).some((k) => get(k, 'spec', 'ingress', 'istio', 'enabled') === true)) {
        for (const ns of [SERVING_NS, EVENTING_NS])
          if (!members.has(ns))
            out.push({
              object: r,
              message: `ServiceMeshMemberRoll ${r.metadata.namespace}/${r.metadata.name} does not include ${ns}`,
              path: ['spec', 'members'],
            });
      }
      const ksvcNs = [...new Set(ctx.index.of(KSVC).map((k) => k.metadata.namespace ?? 'default'))].sort();
      for (const ns of ksvcNs)
        if (!members.has(ns) && !ctx.index.of(SMMR).some((x) => x !== r && strs(get(x, 'spec', 'members')).includes(ns)))
          out.push({
            object: r,
            message: `ServiceMeshMemberRoll ${r.metadata.namespace}/${r.metadata.name} does not include ${ns}, which hosts Knative Services`,
            path: ['spec', 'members'],
          });
    }
    return out;
  },
};
