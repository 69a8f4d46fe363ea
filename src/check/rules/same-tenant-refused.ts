import { VERIFY_RULES } from '../../verify/findings.ts';
import { AUTHZ_POLICY, KSVC, NAMESPACE } from '../context.ts';
import type { Hit, Rule } from '../types.ts';

const meta = VERIFY_RULES.broken;

export const sameTenantRefused: Rule = {
  meta: {
    code: meta.code,
    name: meta.name,
    severity: meta.severity,
    title: meta.title,
    description: `${meta.description} Decided by the authorization simulator over source classes (same as verify): the paths the isolation units promise.`,
    source: 'research users-and-anchors.md P1, P7; issue 10 §3 (members refused through the activator)',
    fix: meta.fix,
    inputs: [
      AUTHZ_POLICY,
      NAMESPACE,
      KSVC,
      'PeerAuthentication.security.istio.io',
      'ServiceMeshControlPlane.maistra.io',
      'ServiceMeshMemberRoll.maistra.io',
      'Istio.sailoperator.io',
    ],
  },
  check(ctx) {
    if (ctx.model().tenantOf.size === 0) return [];
    const rep = ctx.verification();
    const out: Hit[] = [];
    for (const f of rep.findings) {
      if (f.code !== meta.code) continue;
      const ns = f.resource.namespace!;
      const object = ctx.index.get(KSVC, ns, f.resource.name) ?? ctx.index.get(NAMESPACE, undefined, ns);
      if (object) out.push({ object, message: f.message });
    }
    return out;
  },
};
