import { VERIFY_RULES } from '../../verify/findings.ts';
import { isolationRule } from '../isolation-rule.ts';

export const sameTenantRefused = isolationRule(VERIFY_RULES.broken, {
  description: `Decided by the authorization simulator over source classes (same as verify): the paths the isolation units promise.`,
  source: 'research users-and-anchors.md P1, P7; issue 10 §3 (members refused through the activator)',
});
