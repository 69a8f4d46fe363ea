/**
 * What each (source, target, path) should do. In-mesh paths stay inside the target's isolation unit:
 * its tenant, or — when the mesh has tenants — the namespace itself for a member outside every tenant.
 * Without tenants nothing is promised (seed chapter 1: every mesh caller may call every ksvc).
 */
import { IN_MESH, type KnativeModel, type Ksvc, type Via } from '../authz/knative.ts';
import type { PathOutcome } from './hop-cache.ts';

export type Expectation = 'allow' | 'deny' | null;

/** Isolation unit of a namespace (`tenant:<name>` / `member:<ns>`), undefined when none applies. */
export function unitOf(m: KnativeModel, ns: string): string | undefined {
  const t = m.tenantOf.get(ns);
  if (t !== undefined) return `tenant:${t}`;
  return m.tenantOf.size > 0 && memberSet(m.members).has(ns) ? `member:${ns}` : undefined;
}

/** `members` as a set, per array (a model's members are not changed after it is built). */
const memberSets = new WeakMap<readonly string[], { n: number; set: Set<string> }>();
function memberSet(members: readonly string[]): Set<string> {
  let e = memberSets.get(members);
  if (!e || e.n !== members.length) memberSets.set(members, (e = { n: members.length, set: new Set(members) }));
  return e.set;
}

/** Sources per isolation unit, in `m.sources` order. */
export function sourcesByUnit(m: KnativeModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of m.sources) {
    const u = unitOf(m, s);
    if (u === undefined) continue;
    const l = out.get(u);
    if (l) l.push(s);
    else out.set(u, [s]);
  }
  return out;
}

/** The expectation for a request from `from` into namespace `targetNs` on an isolated path. */
export function unitExpectation(m: KnativeModel, from: string, targetNs: string): Expectation {
  const tt = unitOf(m, targetNs);
  if (tt === undefined) return null;
  return unitOf(m, from) === tt ? 'allow' : 'deny';
}

export function expectation(m: KnativeModel, from: string, k: Ksvc, via: Via): Expectation {
  if (!IN_MESH.has(via)) return null;
  return unitExpectation(m, from, k.namespace);
}

/** The expectations the report states, per mesh namespace. */
export interface StatedExpectation {
  namespace: string;
  /** Tenant name, or the namespace itself for a member outside every tenant. */
  unit: string;
  kind: 'tenant' | 'member';
  /** Namespaces expected to reach this one on in-mesh paths. */
  allowedFrom: string[];
}

export function statedExpectations(m: KnativeModel): StatedExpectation[] {
  const out: StatedExpectation[] = [];
  const nss = [...new Set([...m.tenantOf.keys(), ...m.members])].sort();
  const byUnit = sourcesByUnit(m);
  for (const ns of nss) {
    const u = unitOf(m, ns);
    if (u === undefined) continue;
    const kind = u.startsWith('tenant:') ? 'tenant' : 'member';
    out.push({ namespace: ns, unit: u.slice(u.indexOf(':') + 1), kind, allowedFrom: [...(byUnit.get(u) ?? [])] });
  }
  return out;
}

/** With the activator possibly in or out of the path, report the variant that breaks the expectation. */
export function pick(outcomes: PathOutcome[], exp: Expectation): PathOutcome {
  if (exp === 'deny') return outcomes.find((o) => o.allowed) ?? outcomes[0]!;
  if (exp === 'allow') return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
  return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
}
