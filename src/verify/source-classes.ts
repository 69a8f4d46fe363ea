/**
 * Sources grouped into equivalence classes per (target, path): only namespaces that a live policy
 * rule at the identity-dependent hop names (literally or through a wildcard) can be told apart;
 * every other source behaves like one representative, so the cost grows with the policies, not
 * with sources × targets.
 */
import { callerIn, pathHops, type Hop, type Ksvc, type Variant, type Via } from '../authz/knative.ts';
import type { PathOutcome, Verifier } from './hop-cache.ts';

export const variantsOf = (via: Via): Variant[] => (via === 'direct' ? ['serve'] : via === 'activator' ? ['proxy'] : ['serve', 'proxy']);

/**
 * Sources with identical outcomes for one target and path. The sources a policy tells apart are
 * listed; the class that holds "everyone else" keeps that part implicit (every source not told
 * apart), so building it costs nothing per source. `sources` lists the members on demand in the
 * order pair-by-pair expansion uses: listed ones (sorted), then the others in `m.sources` order.
 */
export class SourceClass {
  readonly outcomes: PathOutcome[];
  private readonly listed: string[] = [];
  private others: { all: readonly string[]; set: ReadonlySet<string>; named: ReadonlySet<string> } | null = null;
  private listedSet?: Set<string>;
  private members?: string[];

  constructor(outcomes: PathOutcome[]) {
    this.outcomes = outcomes;
  }

  /** @internal classifyTarget only */
  addListed(s: string): void {
    this.listed.push(s);
  }

  /** @internal classifyTarget only: the class also holds every source of `all` not in `named`. */
  addOthers(all: readonly string[], set: ReadonlySet<string>, named: ReadonlySet<string>): void {
    this.others = { all, set, named };
  }

  get size(): number {
    const o = this.others;
    return this.listed.length + (o ? o.all.length - o.named.size : 0);
  }

  has(s: string): boolean {
    const o = this.others;
    if (o && !o.named.has(s) && o.set.has(s)) return true;
    this.listedSet ??= new Set(this.listed);
    return this.listedSet.has(s);
  }

  /** Members in expansion order, without building the list. */
  *[Symbol.iterator](): IterableIterator<string> {
    yield* this.listed;
    const o = this.others;
    if (o) for (const s of o.all) if (!o.named.has(s)) yield s;
  }

  get sources(): readonly string[] {
    return (this.members ??= [...this]);
  }
}

const SCAN_CLASSES = 8;

const sameOutcome = (a: PathOutcome, b: PathOutcome) =>
  a.variant === b.variant &&
  a.allowed === b.allowed &&
  a.hopIndex === b.hopIndex &&
  a.decision === b.decision &&
  a.policy === b.policy &&
  a.reason === b.reason;

function sameOutcomes(a: readonly PathOutcome[], b: readonly PathOutcome[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameOutcome(a[i]!, b[i]!)) return false;
  return true;
}

function outcomesKey(outcomes: readonly PathOutcome[]): string {
  let key = '';
  for (const o of outcomes)
    key += `${o.variant}|${o.allowed}|${o.hopIndex}|${o.decision}|${o.policy === null ? '-' : `${o.policy.length}:${o.policy}`}|${o.reason.length}:${o.reason};`;
  return key;
}

export interface TargetPaths {
  target: Ksvc;
  via: Via;
  classes: SourceClass[];
}

/**
 * Classes of sources with identical outcomes for one target and path. A source's identity only
 * reaches the hops where it is the (injected) client; there, only the sources that a live rule
 * names (`distinguished`) or whose own sidecar may resolve a different DestinationRule
 * (`clientSensitive`) can be told apart, and every other source behaves like one representative.
 * Classes are merged only when every field of every variant's outcome is equal.
 */
export function classifyTarget(v: Verifier, k: Ksvc, via: Via, reference = false): SourceClass[] {
  const sources = v.m.sources;
  if (sources.length === 0) return [];
  const variants = variantsOf(via);
  const first = sources[0]!;
  const probe = variants.map((variant) => pathHops(v.m, callerIn(first), k, via, variant));
  const named = new Set<string>();
  const sigs: Array<ReadonlyMap<string, string>> = [];
  for (const hops of probe)
    for (const h of hops) {
      // A caller without sidecar sends plaintext and resolves no DestinationRule: nothing there depends on its namespace.
      if (h.client.name !== 'client' || h.client.namespace !== first || !h.client.sidecar) continue;
      for (const ns of v.distinguished(h.dest, h.host)) named.add(ns);
      for (const ns of v.clientSensitive()) named.add(ns);
      sigs.push(v.signatures(h.dest, h.host));
    }
  // Named sources that match the same patterns at every identity-dependent hop (and resolve the
  // common DestinationRule) get the same outcomes: one of them is evaluated for all.
  // The reference evaluation (tests): every source on its own.
  if (reference) for (const s of sources) named.add(s);
  const sensitive = reference ? v.sourceSet : v.clientSensitive();
  const bySig = new Map<string, SourceClass>();
  // Classes in order of first appearance. A target has a few: outcomes are compared field by field;
  // past SCAN_CLASSES they are keyed (every field, length-prefixed where free text: equal keys ⇔ equal outcomes).
  const classes: SourceClass[] = [];
  let byKey: Map<string, SourceClass> | undefined;
  const place = (s: string, hops: Hop[][] | null) => {
    const outcomes = variants.map((variant, i) => v.outcome(hops?.[i] ?? pathHops(v.m, callerIn(s), k, via, variant), variant));
    if (!byKey) {
      for (const c of classes) if (sameOutcomes(c.outcomes, outcomes)) return c;
      const c = new SourceClass(outcomes);
      classes.push(c);
      if (classes.length > SCAN_CLASSES) byKey = new Map(classes.map((x) => [outcomesKey(x.outcomes), x]));
      return c;
    }
    const key = outcomesKey(outcomes);
    let c = byKey.get(key);
    if (!c) {
      byKey.set(key, (c = new SourceClass(outcomes)));
      classes.push(c);
    }
    return c;
  };
  for (const s of [...named].sort()) {
    const sig = sensitive.has(s) ? null : sigs.map((m) => m.get(s) ?? '').join('|');
    let c = sig === null ? undefined : bySig.get(sig);
    if (!c) {
      c = place(s, null);
      if (sig !== null) bySig.set(sig, c);
    }
    c.addListed(s);
  }
  // Everyone else, through one representative (the first source not told apart).
  if (named.size < sources.length) {
    let rep = first;
    if (named.has(rep))
      for (const s of sources)
        if (!named.has(s)) {
          rep = s;
          break;
        }
    place(rep, rep === first ? probe : null).addOthers(sources, v.sourceSet, named);
  }
  return classes;
}
