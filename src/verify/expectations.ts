/** What each (source, target, path) should do: in-mesh paths stay inside the target's tenant. */
import { IN_MESH, type KnativeModel, type Ksvc, type Via } from '../authz/knative.ts';
import type { PathOutcome } from './hop-cache.ts';

export type Expectation = 'allow' | 'deny' | null;

/** In-mesh paths must stay inside the target's tenant; other paths carry no expectation. */
export function expectation(m: KnativeModel, from: string, k: Ksvc, via: Via): Expectation {
  if (!IN_MESH.has(via)) return null;
  const tt = m.tenantOf.get(k.namespace);
  if (tt === undefined) return null;
  return m.tenantOf.get(from) === tt ? 'allow' : 'deny';
}

/** With the activator possibly in or out of the path, report the variant that breaks the expectation. */
export function pick(outcomes: PathOutcome[], exp: Expectation): PathOutcome {
  if (exp === 'deny') return outcomes.find((o) => o.allowed) ?? outcomes[0]!;
  if (exp === 'allow') return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
  return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
}

