import { ISTIO_CR, SMCP } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { durationSeconds, get } from '../util.ts';

export const proxyDrainTooShort: Rule = {
  meta: {
    code: 'SM1004',
    name: 'proxy-drain-too-short',
    severity: 'warning',
    title: "Sidecar drain not longer than Knative's 30 s graceful termination",
    description:
      'Knative Services terminate gracefully within 30 s; istio-proxy must drain longer (terminationDrainDuration > 30s) or in-flight requests are dropped on scale-down.',
    source: 'seed 001 §1.4.2 step 1 (callout 2)',
    fix: 'Set meshConfig.defaultConfig.terminationDrainDuration to 35s (SMCP: spec.techPreview.meshConfig; Istio CR: spec.values.meshConfig).',
    inputs: [SMCP, ISTIO_CR],
  },
  check(ctx) {
    const out: Hit[] = [];
    const look = (o: (typeof ctx.index.objects)[number], path: string[]) => {
      const v = get(o, ...path);
      const s = durationSeconds(v);
      if (s === undefined || s <= 30)
        out.push({
          object: o,
          message: `${o.kind} ${o.metadata.name}: terminationDrainDuration is ${v === undefined ? 'not set (default 5s)' : JSON.stringify(v)}, needs more than 30s`,
          path,
        });
    };
    for (const s of ctx.index.of(SMCP)) look(s, ['spec', 'techPreview', 'meshConfig', 'defaultConfig', 'terminationDrainDuration']);
    for (const i of ctx.index.of(ISTIO_CR)) look(i, ['spec', 'values', 'meshConfig', 'defaultConfig', 'terminationDrainDuration']);
    return out;
  },
};
