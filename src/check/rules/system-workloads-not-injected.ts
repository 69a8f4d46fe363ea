import { EVENTING_INJECTED, INJECT, KAFKA_INJECTED, SERVING_INJECTED } from '../../model/constants.ts';
import type { KubeObject } from '../../util/kube.ts';
import { KEVENTING, KKAFKA, KSERVING } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, isObj, str } from '../util.ts';

/** A workload override requests a sidecar (label or annotation `sidecar.istio.io/inject: "true"`). */
function injected(cr: KubeObject, name: string): boolean {
  for (const field of ['workloads', 'deployments']) {
    for (const w of arr(get(cr, 'spec', field))) {
      if (!isObj(w) || w.name !== name) continue;
      if (str(get(w, 'labels', INJECT)) === 'true' || str(get(w, 'annotations', INJECT)) === 'true') return true;
    }
  }
  return false;
}

const istioOn = (cr: KubeObject): boolean =>
  cr.kind === 'KnativeServing'
    ? get(cr, 'spec', 'ingress', 'istio', 'enabled') === true
    : cr.kind === 'KnativeEventing'
      ? get(cr, 'spec', 'config', 'features', 'istio') === 'enabled'
      : true;

export const systemWorkloadsNotInjected: Rule = {
  meta: {
    code: 'SM2003',
    name: 'system-workloads-not-injected',
    severity: 'error',
    title: 'Knative system workloads without a sidecar',
    description:
      'Where sidecars are per-pod opt-in (the profile\'s injection mode, OSSM 2), activator and autoscaler, the Eventing data plane (ping source adapter, IMC dispatcher, broker ingress/filter, job sink) and every Knative Kafka data-plane workload need a `sidecar.istio.io/inject: "true"` workload override; a half-injected pair cannot talk under STRICT mTLS.',
    source: 'seed 001 §1.4.3 steps 1, 3 and 5 (callout 2); research users-and-anchors.md P10',
    fix: 'Add the workload to spec.workloads with labels sidecar.istio.io/inject: "true" and annotation sidecar.istio.io/rewriteAppHTTPProbers: "true".',
    inputs: [KSERVING, KEVENTING, KKAFKA],
  },
  check(ctx) {
    if (ctx.profile?.injection.mode !== 'pod-opt-in') return [];
    const out: Hit[] = [];
    const look = (cr: KubeObject, names: readonly string[]) => {
      if (!istioOn(cr)) return;
      for (const n of names)
        if (!injected(cr, n))
          out.push({
            object: cr,
            message: `${cr.kind} ${cr.metadata.namespace}/${cr.metadata.name}: workload ${n} is not injected`,
            path: ['spec', 'workloads'],
          });
    };
    for (const k of ctx.index.of(KSERVING)) look(k, SERVING_INJECTED);
    // job-sink is ours (per-tenant policies expect it in the mesh), not the docs': only the documented four are required.
    for (const k of ctx.index.of(KEVENTING))
      look(
        k,
        EVENTING_INJECTED.filter((n) => n !== 'job-sink'),
      );
    for (const k of ctx.index.of(KKAFKA)) look(k, KAFKA_INJECTED);
    return out;
  },
};
