import { KEVENTING, KSERVING, PEER_AUTHN, SMCP } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { get } from '../util.ts';

export const metricsNotPrometheus: Rule = {
  meta: {
    code: 'SM2005',
    name: 'metrics-not-prometheus',
    severity: 'warning',
    title: 'Knative metrics disabled under mTLS',
    description:
      'With mTLS in the mesh, Knative Serving and Eventing metrics are off unless spec.config.observability["metrics.backend-destination"] is "prometheus".',
    source: 'seed 001 "Enabling Knative Serving and Knative Eventing metrics when using Service Mesh with mTLS" step 1',
    fix: 'Set spec.config.observability.metrics.backend-destination: prometheus on KnativeServing and KnativeEventing (and exclude port 8444).',
    inputs: [KSERVING, KEVENTING, SMCP, PEER_AUTHN],
  },
  check(ctx) {
    const mtls =
      ctx.index.of(SMCP).some((s) => get(s, 'spec', 'security', 'dataPlane', 'mtls') === true) ||
      ctx.index
        .of(PEER_AUTHN)
        .some(
          (p) =>
            p.metadata.namespace === ctx.meshNamespace &&
            get(p, 'spec', 'selector') === undefined &&
            get(p, 'spec', 'mtls', 'mode') === 'STRICT',
        );
    if (!mtls) return [];
    const out: Hit[] = [];
    for (const k of [...ctx.index.of(KSERVING), ...ctx.index.of(KEVENTING)]) {
      const v = get(k, 'spec', 'config', 'observability', 'metrics.backend-destination');
      if (v !== 'prometheus')
        out.push({
          object: k,
          message: `${k.kind} ${k.metadata.namespace}/${k.metadata.name}: metrics.backend-destination is ${v === undefined ? 'not set' : JSON.stringify(v)}; metrics are disabled under mTLS`,
          path: ['spec', 'config', 'observability'],
        });
    }
    return out;
  },
};
