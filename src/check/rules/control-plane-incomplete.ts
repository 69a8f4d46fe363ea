import { ISTIO_CNI, ISTIO_CR } from '../context.ts';
import { kindKey } from '../resource-index.ts';
import type { Rule } from '../types.ts';

export const controlPlaneIncomplete: Rule = {
  meta: {
    code: 'SM3006',
    name: 'control-plane-incomplete',
    severity: 'error',
    title: 'Control plane without IstioCNI (or another kind the flavour needs)',
    description:
      'Every control-plane kind of the flavour profile must exist once one does: on OSSM 3 the Istio CR needs an IstioCNI instance, otherwise pods cannot start.',
    source: 'seed 000 "Findings" (istio-cni instance)',
    fix: 'Create the missing control-plane object (OSSM 3: an IstioCNI named default in namespace istio-cni).',
    inputs: [ISTIO_CR, ISTIO_CNI],
  },
  check(ctx) {
    const p = ctx.profile;
    if (!p) return [];
    const kinds = p.apply.controlPlaneKinds.map((k) => kindKey(k));
    const present = kinds.filter((k) => ctx.index.has(k));
    if (present.length === 0) return [];
    const anchor = ctx.index.of(present[0]!)[0]!;
    return kinds
      .filter((k) => !ctx.index.has(k))
      .map((k) => ({
        object: anchor,
        message: `${anchor.kind} ${anchor.metadata.name} is present but no ${k} is (${p.title} needs both)`,
      }));
  },
};
