import { SERVING_NS } from '../../model/constants.ts';
import { SMMR } from '../context.ts';
import type { Rule } from '../types.ts';
import { get, strs } from '../util.ts';

export const serverlessInSeveralMeshes: Rule = {
  meta: {
    code: 'SM2009',
    name: 'serverless-in-several-meshes',
    severity: 'error',
    title: 'Serverless claimed by more than one mesh',
    description:
      'OpenShift Serverless can target only one mesh, and a namespace can be in only one member roll: knative-serving listed by several ServiceMeshMemberRolls cannot join (the second roll reports it as part of another) and moving Serverless between meshes is not supported.',
    source: 'seed 001 "assumptions and limitations"; research users-and-anchors.md P20, P30',
    fix: 'Keep knative-serving (and knative-eventing) in the member roll of one control plane only; to move meshes, uninstall and reinstall Serverless.',
    inputs: [SMMR],
  },
  check(ctx) {
    const rolls = ctx.index.of(SMMR).filter((r) => strs(get(r, 'spec', 'members')).includes(SERVING_NS));
    if (rolls.length < 2) return [];
    return rolls.map((r) => ({
      object: r,
      message: `${SERVING_NS} is a member of ${rolls.length} member rolls (${rolls.map((x) => x.metadata.namespace).join(', ')})`,
      path: ['spec', 'members'],
    }));
  },
};
