import { PART_OF, SERVING_INGRESS_NS, SERVING_NS, METADATA_NAME_LABEL } from '../../model/constants.ts';
import type { KubeObject } from '../../util/kube.ts';
import { KSERVING, NAMESPACE, NETWORK_POLICY, SMCP, SMMR } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, isObj, rec, strs } from '../util.ts';

/** Does one ingress rule admit pods of a namespace with these labels (L3 only; pod selectors must be empty)? */
function admits(rule: unknown, nsLabels: Record<string, string>): boolean {
  const from = get(rule, 'from');
  if (from === undefined || (Array.isArray(from) && from.length === 0)) return true;
  return arr(from).some((peer) => {
    if (!isObj(peer) || peer.ipBlock !== undefined) return false;
    const pod = rec(peer.podSelector);
    if (Object.keys(rec(pod.matchLabels)).length || arr(pod.matchExpressions).length) return false;
    if (peer.namespaceSelector === undefined) return false; // same-namespace pods only
    const sel = rec(peer.namespaceSelector);
    if (arr(sel.matchExpressions).length) return false; // not modelled: assume it does not admit
    return Object.entries(rec(sel.matchLabels)).every(([k, v]) => nsLabels[k] === v);
  });
}

export const kourierMemberNetworkPolicyMissing: Rule = {
  meta: {
    code: 'SM2010',
    name: 'kourier-member-network-policy-missing',
    severity: 'error',
    title: 'Kourier variant: member namespace without allow-from-serving-system-namespace',
    description:
      "With Kourier kept and only user namespaces in the member roll, the control plane's NetworkPolicies admit only mesh members into a member namespace; Kourier and the activator (knative-serving-ingress, knative-serving, outside the mesh) are cut off unless a NetworkPolicy admits the namespaces labelled knative.openshift.io/part-of: openshift-serverless.",
    source:
      'seed 003 §1.6 "Integrating Service Mesh with OpenShift Serverless when Kourier is enabled" step 3; research users-and-anchors.md P25',
    fix: 'Create NetworkPolicy allow-from-serving-system-namespace in each member namespace (ingress from namespaceSelector knative.openshift.io/part-of: openshift-serverless, podSelector {}).',
    inputs: [SMMR, NETWORK_POLICY, SMCP, KSERVING, NAMESPACE],
  },
  check(ctx) {
    if (ctx.index.of(SMCP).some((s) => get(s, 'spec', 'security', 'manageNetworkPolicy') === false)) return [];
    const out: Hit[] = [];
    const labelsOf = (ns: string): Record<string, string> =>
      ctx.index.get(NAMESPACE, undefined, ns)?.metadata.labels ?? { [PART_OF]: 'openshift-serverless', [METADATA_NAME_LABEL]: ns };
    for (const r of ctx.index.of(SMMR)) {
      const members = strs(get(r, 'spec', 'members'));
      if (members.includes(SERVING_NS)) continue; // Knative in the mesh: not the Kourier variant
      for (const ns of members) {
        const policies = ctx.index.of(NETWORK_POLICY).filter((p: KubeObject) => p.metadata.namespace === ns);
        const ok = [SERVING_INGRESS_NS, SERVING_NS].every((src) =>
          policies.some((p) => {
            const pod = rec(get(p, 'spec', 'podSelector'));
            if (Object.keys(rec(pod.matchLabels)).length || arr(pod.matchExpressions).length) return false;
            return arr(get(p, 'spec', 'ingress')).some((rule) => admits(rule, labelsOf(src)));
          }),
        );
        if (!ok)
          out.push({
            object: r,
            message: `member namespace ${ns} has no NetworkPolicy admitting ${SERVING_INGRESS_NS} and ${SERVING_NS} (Kourier variant): the control plane's policies cut Kourier off`,
            path: ['spec', 'members'],
          });
      }
    }
    return out;
  },
};
