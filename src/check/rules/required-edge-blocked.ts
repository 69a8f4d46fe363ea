import { VERIFY_RULES } from '../../verify/findings.ts';
import { AUTHZ_POLICY, KSVC, PEER_AUTHN } from '../context.ts';
import type { Hit, Rule } from '../types.ts';

const meta = VERIFY_RULES.blocked;

export const requiredEdgeBlocked: Rule = {
  meta: {
    code: meta.code,
    name: meta.name,
    severity: meta.severity,
    title: meta.title,
    description: `${meta.description} Decided by the authorization simulator (same as verify).`,
    source: 'research users-and-anchors.md P1, P3, P4, P5; istio-semantics.md §6.4',
    fix: meta.fix,
    inputs: [
      AUTHZ_POLICY,
      PEER_AUTHN,
      KSVC,
      'Namespace',
      'ServiceMeshControlPlane.maistra.io',
      'ServiceMeshMemberRoll.maistra.io',
      'Istio.sailoperator.io',
    ],
  },
  check(ctx) {
    const out: Hit[] = [];
    for (const e of ctx.verification().requiredEdges) {
      if (e.allowed) continue;
      // Point at the Knative Service when it is among the objects, else at the deciding policy.
      const [pns, pname] = e.policy?.split('/') ?? [];
      const policy = pns && pname ? ctx.index.get(AUTHZ_POLICY, pns, pname) : undefined;
      const [kns, kname] = e.target?.split('/') ?? [];
      const ksvc = kns && kname ? ctx.index.get(KSVC, kns, kname) : undefined;
      const object = ksvc ?? policy ?? ctx.index.of(AUTHZ_POLICY)[0];
      if (!object) continue;
      out.push({ object, message: `${e.description}: ${e.impact} — refused at ${e.hop}: ${e.reason}` });
    }
    return out;
  },
};
