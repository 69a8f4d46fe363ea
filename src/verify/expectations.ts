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
  return m.tenantOf.size > 0 && m.members.includes(ns) ? `member:${ns}` : undefined;
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
  for (const ns of nss) {
    const u = unitOf(m, ns);
    if (u === undefined) continue;
    const kind = u.startsWith('tenant:') ? 'tenant' : 'member';
    out.push({ namespace: ns, unit: u.slice(u.indexOf(':') + 1), kind, allowedFrom: m.sources.filter((s) => unitOf(m, s) === u) });
  }
  return out;
}

/** With the activator possibly in or out of the path, report the variant that breaks the expectation. */
export function pick(outcomes: PathOutcome[], exp: Expectation): PathOutcome {
  if (exp === 'deny') return outcomes.find((o) => o.allowed) ?? outcomes[0]!;
  if (exp === 'allow') return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
  return outcomes.find((o) => !o.allowed) ?? outcomes[0]!;
}
