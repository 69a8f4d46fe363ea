import { VERIFY_RULES } from '../../verify/findings.ts';
import { isolationRule } from '../isolation-rule.ts';

export const crossTenantLeak = isolationRule(VERIFY_RULES.leak, {
  description: `Decided by the authorization simulator over source classes (same as verify).`,
  source: 'research users-and-anchors.md P2, P26; istio-semantics.md §6.3, §6.6',
});
