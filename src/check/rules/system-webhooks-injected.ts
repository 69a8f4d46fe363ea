import { EVENTING_NOT_INJECTED, INJECT, KAFKA_NOT_INJECTED, SERVING_NOT_INJECTED } from '../../model/constants.ts';
import type { KubeObject } from '../../util/kube.ts';
import { KEVENTING, KKAFKA, KSERVING, PEER_AUTHN, SMCP } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, isObj, str } from '../util.ts';

export const systemWebhooksInjected: Rule = {
  meta: {
    code: 'SM2008',
    name: 'system-webhooks-injected',
    severity: 'error',
    title: 'Knative webhook or controller injected under STRICT mTLS',
    description:
      'The kube-apiserver calls the Knative webhooks without a mesh certificate, and net-istio-controller probes the gateways in plaintext: with a sidecar under STRICT mTLS webhook calls fail (apply of a ksvc times out) and ingress probes fail.',
    source: 'research users-and-anchors.md P9 (net-istio#150); serverless-operator.md §4.4',
    fix: 'Remove the sidecar.istio.io/inject: "true" override for the webhook/controller workload (on injection-labelled namespaces, set it to "false").',
    inputs: [KSERVING, KEVENTING, KKAFKA, SMCP, PEER_AUTHN],
  },
  check(ctx) {
    const strict =
      ctx.index.of(SMCP).some((s) => get(s, 'spec', 'security', 'dataPlane', 'mtls') === true) ||
      ctx.index.of(PEER_AUTHN).some((p) => get(p, 'spec', 'selector') === undefined && get(p, 'spec', 'mtls', 'mode') === 'STRICT');
    if (!strict) return [];
    const out: Hit[] = [];
    const look = (cr: KubeObject, names: readonly string[]) => {
      for (const field of ['workloads', 'deployments'])
        arr(get(cr, 'spec', field)).forEach((w, i) => {
          if (!isObj(w) || typeof w.name !== 'string' || !names.includes(w.name)) return;
          if (str(get(w, 'labels', INJECT)) === 'true' || str(get(w, 'annotations', INJECT)) === 'true')
            out.push({
              object: cr,
              message: `${cr.kind} ${cr.metadata.namespace}/${cr.metadata.name}: ${w.name} is injected, but the apiserver / gateway probes reach it without mTLS`,
              path: ['spec', field, i],
            });
        });
    };
    for (const k of ctx.index.of(KSERVING)) look(k, SERVING_NOT_INJECTED);
    for (const k of ctx.index.of(KEVENTING)) look(k, EVENTING_NOT_INJECTED);
    for (const k of ctx.index.of(KKAFKA)) look(k, KAFKA_NOT_INJECTED);
    return out;
  },
};
