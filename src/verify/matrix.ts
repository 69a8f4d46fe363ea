/**
 * The reachability matrix over the Knative data-path model, and its findings: LEAK (cross-tenant
 * request allowed), BROKEN (same-tenant request refused) and BLOCKED (a required edge refused).
 */
import {
  callerIn,
  externalHost,
  IN_MESH,
  pathHops,
  requiredEdges,
  systemEdges,
  VIAS,
  type KnativeModel,
  type Ksvc,
  type RequiredEdge,
  type Via,
} from '../authz/knative.ts';
import { expectation, pick, statedExpectations, unitOf, type StatedExpectation } from './expectations.ts';
import { Verifier, type PathOutcome } from './hop-cache.ts';
import { classifyTarget, SourceClass, variantsOf, type TargetPaths } from './source-classes.ts';
import { eventDelivery, eventingPaths, type EventingRow } from './eventing.ts';
import { blockedFinding, reachabilityFinding } from './findings.ts';
import type { Finding } from '../report/finding.ts';

export interface MatrixRow {
  from: string;
  to: string;
  via: Via;
  allowed: boolean;
  hop: string;
  policy: string | null;
  reason: string;
}

export interface EdgeRow {
  edge: RequiredEdge['id'];
  target: string | null;
  description: string;
  allowed: boolean;
  hop: string;
  policy: string | null;
  reason: string;
  impact: string;
}

const variantNote = (via: Via, o: PathOutcome) =>
  via === 'direct' || via === 'activator' ? '' : o.variant === 'serve' ? ' [activator out of path]' : ' [activator in path]';

export function toRow(v: Verifier, from: string, k: Ksvc, via: Via, outcomes: PathOutcome[]): MatrixRow {
  const o = pick(outcomes, expectation(v.m, from, k, via));
  const hops = pathHops(v.m, callerIn(from), k, via, o.variant);
  return {
    from,
    to: `${k.namespace}/${k.name}`,
    via,
    allowed: o.allowed,
    hop: hops[o.hopIndex]!.label,
    policy: o.policy,
    reason: `${o.reason}${variantNote(via, o)}`,
  };
}

function edgeRows(v: Verifier, edges: RequiredEdge[], target: string | null): EdgeRow[] {
  return edges.map((e) => {
    // Alternatives in order up to the first that works: later ones cannot change the row.
    // Only the deciding hop of each alternative is read (as evalHops' `results[at]`).
    const tries: Array<{ a: RequiredEdge['alternatives'][number]; r: ReturnType<Verifier['decidingHop']> }> = [];
    for (const a of e.alternatives) {
      tries.push({ a, r: v.decidingHop(a.hops) });
      if (tries[tries.length - 1]!.r.allowed) break;
    }
    const ok = tries.find((t) => t.r.allowed);
    const shown = ok ?? tries[0]!;
    const res = shown.r.result;
    return {
      edge: e.id,
      target,
      description: e.description,
      allowed: !!ok,
      hop: shown.r.hop,
      policy: res.policy,
      reason: ok ? `${res.reason} (${shown.a.label})` : tries.map((t) => `${t.a.label}: ${t.r.result.reason}`).join('; '),
      impact: e.impact,
    };
  });
}

/** Every required edge (system and per ksvc), evaluated: what `check` reports without the whole matrix. */
export function requiredEdgeRows(m: KnativeModel): EdgeRow[] {
  const v = new Verifier(m);
  const out = edgeRows(v, systemEdges(m), null);
  for (const k of m.ksvcs) out.push(...edgeRows(v, requiredEdges(m, k), `${k.namespace}/${k.name}`));
  return out;
}

export interface VerifyReport {
  paths: MatrixRow[];
  /** Broker ingress, spoofed Kn-Namespace, channel, sinks and event delivery (empty without Knative Eventing). */
  eventing: EventingRow[];
  /** The isolation units the LEAK / BROKEN verdicts are measured against. */
  expectations: StatedExpectation[];
  requiredEdges: EdgeRow[];
  surprises: string[];
  /** The surprises as data (src/report renders them). */
  findings: Finding[];
  violations: number;
  stats: { sources: number; targets: number; sourceClasses: number; evaluations: number };
}

export interface VerifyOptions {
  /** false: only counts and the rows that break their expectation (bench-sized inputs). */
  expandRows?: boolean;
  /**
   * Tests only: evaluate every source on its own and share nothing between targets, the straightforward
   * evaluation the grouped one must agree with (test/verify/differential.test.ts).
   */
  reference?: boolean;
}

/** The whole matrix; `expandRows: false` keeps only counts (bench-sized inputs). */
export function verifyModel(m: KnativeModel, opts: VerifyOptions = {}): VerifyReport & { byTarget: TargetPaths[] } {
  const v = new Verifier(m);
  const byTarget: TargetPaths[] = [];
  const paths: MatrixRow[] = [];
  const surprises: string[] = [];
  const findings: Finding[] = [];
  let violations = 0;
  let sourceClasses = 0;
  const expand = opts.expandRows !== false;
  const sourceSet = new Set(m.sources);
  const nsByTenant = new Map<string, string[]>();
  for (const ns of [...m.tenantOf.keys(), ...m.members]) {
    const u = unitOf(m, ns);
    if (u === undefined) continue;
    const l = nsByTenant.get(u);
    if (l) l.push(ns);
    else nsByTenant.set(u, [ns]);
  }
  // Required edges depend on the target's policies only; they are evaluated with the ksvc's paths,
  // after which the Verifier forgets the ksvc's cache entries (they are not asked for again).
  // So is the event delivery to the ksvc (its outcome is reported with the eventing rows).
  const ksvcEdges: EdgeRow[] = [];
  const delivered = new Map<Ksvc, PathOutcome>();
  const shared = [m.activator, m.gateway];
  for (const k of m.ksvcs) {
    verifyKsvc(k);
    ksvcEdges.push(...edgeRows(v, requiredEdges(m, k), `${k.namespace}/${k.name}`));
    const d = eventDelivery(v, k);
    if (d) delivered.set(k, d);
    v.release(k.pod, [k.host, externalHost(m, k)], shared);
  }
  function verifyKsvc(k: Ksvc) {
    for (const via of VIAS) {
      const classes = classifyTarget(v, k, via, opts.reference);
      sourceClasses += classes.length;
      byTarget.push({ target: k, via, classes });
      if (!expand) {
        violations += countViolations(m, k, via, classes, surprises, findings, nsByTenant, sourceSet);
        continue;
      }
      for (const c of classes) {
        for (const from of c.sources) {
          const exp = expectation(m, from, k, via);
          const o = pick(c.outcomes, exp);
          const bad = (exp === 'deny' && o.allowed) || (exp === 'allow' && !o.allowed);
          if (exp === 'deny' && o.allowed) violations++;
          if (expand || bad) {
            const row = toRow(v, from, k, via, c.outcomes);
            if (expand) paths.push(row);
            if (bad) {
              const text =
                exp === 'deny'
                  ? `LEAK ${from} → ${row.to} via ${via}: cross-tenant request allowed (${row.policy ?? 'no policy'}; ${row.reason})`
                  : `BROKEN ${from} → ${row.to} via ${via}: same-tenant request refused at ${row.hop}: ${row.reason}`;
              surprises.push(text);
              findings.push(
                reachabilityFinding(exp === 'deny' ? 'leak' : 'broken', k, text.slice(text.indexOf(' ') + 1), {
                  from,
                  to: row.to,
                  via,
                  hop: row.hop,
                  policy: row.policy,
                }),
              );
            }
          }
        }
      }
    }
  }
  const ev = eventingPaths(v, { expandRows: expand, reference: opts.reference, delivered });
  sourceClasses += ev.classes;
  for (const b of ev.bad) {
    const leak = b.expected === 'deny';
    if (leak) violations++;
    const text = leak
      ? `LEAK ${b.from} → ${b.to} via ${b.via}: cross-tenant event request allowed (${b.policy ?? 'no policy'}; ${b.reason})`
      : `BROKEN ${b.from} → ${b.to} via ${b.via}: same-tenant event request refused at ${b.hop}: ${b.reason}`;
    if (surprises.length < 1000) surprises.push(text);
    findings.push(
      reachabilityFinding(leak ? 'leak' : 'broken', b.resource, text.slice(text.indexOf(' ') + 1), {
        from: b.from,
        to: b.to,
        via: b.via,
        hop: b.hop,
        policy: b.policy,
      }),
    );
  }
  const requiredEdgesOut: EdgeRow[] = [...edgeRows(v, systemEdges(m), null), ...ksvcEdges];
  for (const e of requiredEdgesOut) {
    if (e.allowed) continue;
    violations++;
    surprises.push(`BLOCKED ${e.description}: ${e.impact} — ${e.reason}`);
    findings.push(
      blockedFinding(
        e.target ? { namespace: e.target.split('/')[0]!, name: e.target.split('/')[1]! } : null,
        `${e.description}: ${e.impact} — ${e.reason}`,
        e.hop,
        e.policy,
      ),
    );
  }
  return {
    paths,
    eventing: ev.rows,
    expectations: statedExpectations(m),
    requiredEdges: requiredEdgesOut,
    surprises,
    findings,
    violations,
    stats: { sources: m.sources.length, targets: m.ksvcs.length, sourceClasses, evaluations: v.evaluations },
    byTarget,
  };
}

/** The label of the hop that decided an outcome (as `toRow` reports it for expanded rows). */
function decidingHop(m: KnativeModel, from: string, k: Ksvc, via: Via, o: PathOutcome): string {
  return pathHops(m, callerIn(from), k, via, o.variant)[o.hopIndex]?.label ?? '';
}

/**
 * Counting without expanding rows: only the target's own-tenant namespaces expect "allow", every
 * other source expects "deny", so a class needs two checks and a count, not one per source.
 */
function countViolations(
  m: KnativeModel,
  k: Ksvc,
  via: Via,
  classes: SourceClass[],
  surprises: string[],
  findings: Finding[],
  nsByTenant: Map<string, string[]>,
  sourceSet: ReadonlySet<string>,
): number {
  const tenant = unitOf(m, k.namespace);
  if (!IN_MESH.has(via) || tenant === undefined) return 0;
  const ownList = (nsByTenant.get(tenant) ?? []).filter((s) => sourceSet.has(s));
  const own = new Set(ownList);
  let n = 0;
  for (const c of classes) {
    const sameCount = ownList.filter((s) => c.has(s)).length;
    const cross = c.size - sameCount;
    if (cross > 0 && pick(c.outcomes, 'deny').allowed) {
      n += cross;
      if (surprises.length < 50) {
        let example = '';
        for (const s of c)
          if (!own.has(s)) {
            example = s;
            break;
          }
        const o = pick(c.outcomes, 'deny');
        const text = `${example}${cross > 1 ? ` (+${cross - 1} more)` : ''} → ${k.namespace}/${k.name} via ${via}: cross-tenant request allowed`;
        surprises.push(`LEAK ${text}`);
        findings.push(
          reachabilityFinding('leak', k, text, {
            from: example,
            to: `${k.namespace}/${k.name}`,
            via,
            hop: decidingHop(m, example, k, via, o),
            policy: o.policy,
          }),
        );
      }
    }
    if (sameCount > 0 && !pick(c.outcomes, 'allow').allowed && surprises.length < 50) {
      surprises.push(`BROKEN ${sameCount} same-tenant source(s) → ${k.namespace}/${k.name} via ${via}: same-tenant request refused`);
      const o = pick(c.outcomes, 'allow');
      const from = ownList.find((s) => c.has(s)) ?? '';
      findings.push(
        reachabilityFinding(
          'broken',
          k,
          `${sameCount} same-tenant source(s) → ${k.namespace}/${k.name} via ${via}: same-tenant request refused`,
          { from, to: `${k.namespace}/${k.name}`, via, hop: from ? decidingHop(m, from, k, via, o) : '', policy: o.policy },
        ),
      );
    }
  }
  return n;
}

/** `verify --from NS --to NS/KSVC [--via P]`: every hop of every variant (`v`: share the caches across calls). */
export function explain(m: KnativeModel, from: string, k: Ksvc, vias: readonly Via[], v: Verifier = new Verifier(m)) {
  return vias.map((via) => ({
    via,
    expectation: expectation(m, from, k, via),
    variants: variantsOf(via).map((variant) => {
      const hops = pathHops(m, callerIn(from), k, via, variant);
      const { results, allowed } = v.evalHops(hops);
      return { variant, allowed, hops: results, skipped: hops.slice(results.length).map((h) => h.label) };
    }),
  }));
}
