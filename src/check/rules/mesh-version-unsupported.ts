import { ISTIO_CR, SMCP } from '../context.ts';
import { profileFor } from '../../flavors/index.ts';
import type { Hit, Rule } from '../types.ts';
import { get, str } from '../util.ts';

export const meshVersionUnsupported: Rule = {
  meta: {
    code: 'SM1007',
    name: 'mesh-version-unsupported',
    severity: 'error',
    title: 'Service Mesh version not supported by Serverless',
    description:
      "Serverless with Service Mesh needs Service Mesh 2.2 or later (2.0.5 for secret filtering); the check is the flavour profile's version rule.",
    source: 'seed 001 "Prerequisites" important box; seed 001 "secret filtering" prerequisites',
    fix: 'Upgrade the control plane (SMCP spec.version v2.2 or later).',
    inputs: [SMCP, ISTIO_CR],
  },
  check(ctx) {
    const out: Hit[] = [];
    const look = (o: (typeof ctx.index.objects)[number], flavor: 'ossm2' | 'ossm3') => {
      const v = str(get(o, 'spec', 'version'));
      if (!v) return;
      const problem = profileFor(flavor).versionProblem(v);
      if (problem) out.push({ object: o, message: problem, path: ['spec', 'version'] });
    };
    for (const s of ctx.index.of(SMCP)) look(s, 'ossm2');
    for (const i of ctx.index.of(ISTIO_CR)) look(i, 'ossm3');
    return out;
  },
};
