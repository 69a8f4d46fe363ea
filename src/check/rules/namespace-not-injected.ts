import { EVENTING_NS, ISTIO_INJECTION, ISTIO_REV, SERVING_NS, TENANT_LABEL } from '../../model/constants.ts';
import { KSVC, NAMESPACE } from '../context.ts';
import type { Rule } from '../types.ts';
import { labels } from '../util.ts';

export const namespaceNotInjected: Rule = {
  meta: {
    code: 'SM3005',
    name: 'namespace-not-injected',
    severity: 'error',
    title: 'Mesh namespace without injection label or revision',
    description:
      'Where namespaces join the mesh by label (OSSM 3, upstream Istio), knative-serving, knative-eventing, tenant namespaces and namespaces hosting Knative Services need istio-injection: enabled or istio.io/rev.',
    source: 'seed 000 "Findings" (istio-injection label on namespaces); research users-and-anchors.md P20, P30',
    fix: 'Label the namespace istio-injection=enabled (or istio.io/rev=<revision>) and restart its pods.',
    inputs: [NAMESPACE, KSVC],
  },
  check(ctx) {
    const p = ctx.profile;
    if (p?.injection.mode !== 'namespace-label') return [];
    const want = new Set<string>(ctx.index.of(KSVC).map((k) => k.metadata.namespace ?? 'default'));
    if (p.injection.labelSystemNamespaces) for (const ns of [SERVING_NS, EVENTING_NS]) want.add(ns); // the gateway namespace's pods are injected by gateway template, not by label
    return ctx.index
      .of(NAMESPACE)
      .filter(
        (n) =>
          (want.has(n.metadata.name) || labels(n)[TENANT_LABEL] !== undefined) &&
          labels(n)[ISTIO_INJECTION] !== 'enabled' &&
          !labels(n)[ISTIO_REV],
      )
      .map((n) => ({
        object: n,
        message: `Namespace ${n.metadata.name} has neither ${ISTIO_INJECTION}: enabled nor ${ISTIO_REV}`,
        path: ['metadata', 'labels'],
      }));
  },
};
