import { KSVC, NAMESPACE } from '../context.ts';
import type { Rule } from '../types.ts';
import { get, labels, rec } from '../util.ts';

export const namespaceAppLabelOverridden: Rule = {
  meta: {
    code: 'SM6001',
    name: 'namespace-app-label-overridden',
    severity: 'info',
    title: 'Namespace `app` label does not reach Knative revision pods in cost reports',
    description:
      'Cost management inherits namespace labels to pods only where the pod has no such label. Knative revision pods carry app=<revision name> (unless the template sets app), so a namespace label app=… does not count their costs under it.',
    source: 'seed 003 chapter 3.2 "Using labels for cost management queries"',
    fix: 'Query Knative costs by app=<revision name>, or set the app label on the Knative Service template (spec.template.metadata.labels.app).',
    inputs: [NAMESPACE, KSVC],
  },
  check(ctx) {
    const withApp = new Map(
      ctx.index
        .of(NAMESPACE)
        .filter((n) => labels(n).app !== undefined)
        .map((n) => [n.metadata.name, n]),
    );
    if (withApp.size === 0) return [];
    const out = new Map<string, { ns: (typeof ctx.index.objects)[number]; ksvcs: string[] }>();
    for (const k of ctx.index.of(KSVC)) {
      const ns = withApp.get(k.metadata.namespace ?? 'default');
      if (!ns || rec(get(k, 'spec', 'template', 'metadata', 'labels')).app !== undefined) continue;
      const e = out.get(ns.metadata.name) ?? { ns, ksvcs: [] };
      e.ksvcs.push(k.metadata.name);
      out.set(ns.metadata.name, e);
    }
    return [...out.values()].map(({ ns, ksvcs }) => ({
      object: ns,
      message: `Namespace ${ns.metadata.name} has app=${labels(ns).app}, but its Knative Services (${ksvcs.sort().join(', ')}) run pods labelled app=<revision name>: their costs are not reported under app=${labels(ns).app}`,
      path: ['metadata', 'labels', 'app'],
    }));
  },
};
