/**
 * `serverless-mesh report`: one self-contained HTML file (pure: data in, string out). No script, no
 * external resource (a Content-Security-Policy of `default-src 'none'` makes sure), readable without
 * JavaScript: the click-to-explain of a matrix cell is a `:target` anchor. Every name comes from a
 * user's manifests, so every text and attribute goes through `esc`.
 *
 * Size (issue 13: 1,000 tenants under 10 MB) decides the layout:
 * - up to `detailSources` source namespaces and `detailTargets` Knative Services: one cell per
 *   (namespace, Knative Service), each with its hop-by-hop explanation when the matrix has at most
 *   `explainAll` cells, else only the cells that break their expectation;
 * - larger: one cell per (isolation unit, isolation unit) holding the worst of its namespace pairs;
 *   a unit pair that breaks its expectation links to its namespace drill-down. Up to `gridUnits`
 *   units the cells are table cells; beyond, one character per cell (colour and a link only on the
 *   exceptions) so that 1,000 × 1,000 × 5 paths stays ~5 MB.
 * Explanations and drill-downs beyond their budget are not written; the report says how to get any
 * of them (`verify --from NS --to NS/KSVC --via PATH`), the command computes the same thing.
 */
import { IN_MESH, VIAS, type KnativeModel, type Ksvc, type Via } from '../authz/knative.ts';
import { emitYaml } from '../render/yaml-emit.ts';
import type { KubeObject } from '../util/kube.ts';
import {
  explain,
  expectation,
  pick,
  unitOf,
  Verifier,
  verifyModel,
  type EdgeRow,
  type PathOutcome,
  type TargetPaths,
} from '../verify/index.ts';
import { VERIFY_RULES } from '../verify/findings.ts';
import { resourceKey, sortFindings, type Finding, type Severity } from './finding.ts';

export interface ReportLimits {
  detailSources: number;
  detailTargets: number;
  gridUnits: number;
  explainAll: number;
  explanations: number;
  drillDowns: number;
  bundleBytes: number;
  /** Required-edge rows listed one by one; beyond, per kind and the blocked ones. */
  edges: number;
  /** Exceptions marked in colour (with a title) per path in the one-character grid. */
  gridMarkup: number;
}

export const DEFAULT_LIMITS: ReportLimits = {
  detailSources: 40,
  detailTargets: 40,
  gridUnits: 40,
  explainAll: 1000,
  explanations: 300,
  drillDowns: 100,
  bundleBytes: 1_500_000,
  edges: 200,
  gridMarkup: 2000,
};

export interface HtmlReportInput {
  model: KnativeModel;
  /** How the input was given, as the command line would repeat it: `-f spec.yaml`, `-m a.yaml`, `--cluster`. */
  source: string;
  /** `check` findings (SM codes). */
  findings: readonly Finding[];
  /** The rendered bundle (for -f) or the objects analysed. */
  bundle: { title: string; objects: readonly KubeObject[] };
  tool: { name: string; version: string; informationUri: string };
  /** When it was generated (left out in tests, so the output is reproducible). */
  generated?: string;
  /** What the check run could not look at (check-commands `coverageNotes`). */
  notes?: readonly string[];
  limits?: Partial<ReportLimits>;
}

/** Cell states, ordered: an aggregate shows the highest of its namespace pairs. */
export enum Cell {
  None = 0,
  /** No expectation (outside the mesh or no tenants), refused. */
  Closed = 1,
  /** Expected deny, refused. */
  Refused = 2,
  /** No expectation, allowed. */
  Open = 3,
  /** Expected allow, allowed. */
  Allowed = 4,
  /** Expected allow, refused (SM5002). */
  Broken = 5,
  /** Expected deny, allowed (SM5001). */
  Leak = 6,
}

const CELL: Record<Cell, { cls: string; text: string; char: string; label: string }> = {
  [Cell.None]: { cls: 'c0', text: '', char: ' ', label: 'no path' },
  [Cell.Closed]: { cls: 'c1', text: 'deny', char: '-', label: 'refused (no isolation expectation on this path)' },
  [Cell.Refused]: { cls: 'c2', text: 'deny', char: '.', label: 'refused, as expected' },
  [Cell.Open]: { cls: 'c3', text: 'allow', char: '+', label: 'allowed (no isolation expectation on this path)' },
  [Cell.Allowed]: { cls: 'c4', text: 'allow', char: 'o', label: 'allowed, as expected' },
  [Cell.Broken]: { cls: 'c5', text: 'BROKEN', char: 'B', label: 'BROKEN: refused, but its own unit must reach it' },
  [Cell.Leak]: { cls: 'c6', text: 'LEAK', char: 'L', label: 'LEAK: allowed, but another unit must not reach it' },
};

/** verify lists at most this many eventing rows that break their expectation (eventing.ts). */
const EVENTING_CAP = 1000;

/** The grid's characters as bytes, by state. */
const CHAR_CODE = Uint8Array.from(
  Object.values(Cell)
    .filter((v): v is Cell => typeof v === 'number')
    .sort((a, b) => a - b),
  (c) => CELL[c].char.charCodeAt(0),
);
const ASCII = new TextDecoder('ascii');

const VIA_TITLE: Record<Via, string> = {
  direct: 'direct (pod to revision pod)',
  activator: 'through the activator',
  'local-gateway': 'through the local (cluster) gateway',
  external: 'through the external gateway',
  'no-sidecar': 'from a pod without sidecar',
};

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text and attribute values (always double-quoted). */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);

const ksvcKey = (k: Pick<Ksvc, 'namespace' | 'name'>) => `${k.namespace}/${k.name}`;

function stateFor(exp: 'allow' | 'deny' | null, o: PathOutcome): Cell {
  if (exp === 'deny') return o.allowed ? Cell.Leak : Cell.Refused;
  if (exp === 'allow') return o.allowed ? Cell.Allowed : Cell.Broken;
  return o.allowed ? Cell.Open : Cell.Closed;
}

interface Unit {
  key: string;
  label: string;
  kind: 'tenant' | 'member' | 'namespace';
  sources: number[];
  targets: number[];
}

/** What the matrix pass computes, for one or the other layout. */
interface Matrix {
  units: Unit[];
  unitOfSource: Int32Array;
  unitOfTarget: Int32Array;
  /** Per path: states per (source, target) in the detailed layout, per (unit, unit) otherwise. */
  cells: Map<Via, Uint8Array>;
  detailed: boolean;
  counts: Record<'leak' | 'broken', number>;
  byTarget: Map<string, TargetPaths>;
}

function buildMatrix(m: KnativeModel, byTarget: readonly TargetPaths[], lim: ReportLimits): Matrix {
  const S = m.sources.length;
  const T = m.ksvcs.length;
  const unitIndex = new Map<string, number>();
  const units: Unit[] = [];
  const unitFor = (ns: string): number => {
    const u = unitOf(m, ns);
    const key = u ?? `namespace:${ns}`;
    let i = unitIndex.get(key);
    if (i === undefined) {
      unitIndex.set(key, (i = units.length));
      const kind = u === undefined ? 'namespace' : u.startsWith('tenant:') ? 'tenant' : 'member';
      units.push({ key, label: key.slice(key.indexOf(':') + 1), kind, sources: [], targets: [] });
    }
    return i;
  };
  const unitOfSource = new Int32Array(S);
  m.sources.forEach((s, i) => {
    const u = unitFor(s);
    unitOfSource[i] = u;
    units[u]!.sources.push(i);
  });
  const unitOfTarget = new Int32Array(T);
  m.ksvcs.forEach((k, i) => {
    const u = unitFor(k.namespace);
    unitOfTarget[i] = u;
    units[u]!.targets.push(i);
  });
  const detailed = S <= lim.detailSources && T <= lim.detailTargets;
  const U = units.length;
  const cells = new Map<Via, Uint8Array>(VIAS.map((v) => [v, new Uint8Array(detailed ? S * T : U * U)]));
  const sourceIndex = new Map(m.sources.map((s, i) => [s, i]));
  const targetIndex = new Map(m.ksvcs.map((k, i) => [k, i]));
  const counts = { leak: 0, broken: 0 };
  const tpByKey = new Map<string, TargetPaths>();
  for (const tp of byTarget) {
    tpByKey.set(`${tp.via}|${ksvcKey(tp.target)}`, tp);
    const ti = targetIndex.get(tp.target)!;
    const tu = unitOfTarget[ti]!;
    // Expectations depend on the unit only (expectations.ts): own unit allow, every other deny.
    const isolated = IN_MESH.has(tp.via) && unitOf(m, tp.target.namespace) !== undefined;
    const arr = cells.get(tp.via)!;
    for (const c of tp.classes) {
      const own = isolated ? stateFor('allow', pick(c.outcomes, 'allow')) : stateFor(null, pick(c.outcomes, null));
      const other = isolated ? stateFor('deny', pick(c.outcomes, 'deny')) : own;
      for (const s of c) {
        const si = sourceIndex.get(s)!;
        const su = unitOfSource[si]!;
        const st = su === tu ? own : other;
        if (st === Cell.Leak) counts.leak++;
        else if (st === Cell.Broken) counts.broken++;
        const at = detailed ? si * T + ti : su * U + tu;
        if (arr[at]! < Number(st)) arr[at] = st;
      }
    }
  }
  return { units, unitOfSource, unitOfTarget, cells, detailed, counts, byTarget: tpByKey };
}

/** The state of one (source, Knative Service, path), from the classes (drill-downs of the aggregated layout). */
function pairState(m: KnativeModel, mx: Matrix, s: string, k: Ksvc, via: Via): Cell {
  const tp = mx.byTarget.get(`${via}|${ksvcKey(k)}`);
  const c = tp?.classes.find((x) => x.has(s));
  if (!c) return Cell.None;
  const exp = expectation(m, s, k, via);
  return stateFor(exp, pick(c.outcomes, exp));
}

class Explanations {
  private readonly v: Verifier;
  readonly written = new Map<string, string>();
  omitted = 0;
  constructor(
    private readonly m: KnativeModel,
    private readonly source: string,
    private readonly budget: number,
  ) {
    this.v = new Verifier(m);
  }

  /** The anchor of the cell's explanation, written if the budget allows; null when not written. */
  id(si: number, ti: number, via: Via): string | null {
    const id = `x-${via}-${si}-${ti}`;
    if (this.written.has(id)) return id;
    if (this.written.size >= this.budget) {
      this.omitted++;
      return null;
    }
    this.written.set(id, this.render(id, si, ti, via));
    return id;
  }

  private render(id: string, si: number, ti: number, via: Via): string {
    const from = this.m.sources[si]!;
    const k = this.m.ksvcs[ti]!;
    const [p] = explain(this.m, from, k, [via], this.v);
    // As the matrix decides (expectations.ts `pick`): the variant that breaks the expectation, if any.
    const anyAllowed = p!.variants.some((x) => x.allowed);
    const anyRefused = p!.variants.some((x) => !x.allowed);
    const bad = p!.expectation === 'deny' && anyAllowed ? Cell.Leak : p!.expectation === 'allow' && anyRefused ? Cell.Broken : null;
    const verdict = bad === null ? null : CELL[bad];
    const out: string[] = [
      `<section class="expl" id="${id}" aria-labelledby="${id}-h"><h4 id="${id}-h">${esc(from)} → ${esc(ksvcKey(k))} via ${esc(via)}</h4>`,
      `<p>Expected: <strong>${p!.expectation ?? 'no expectation on this path'}</strong>.${verdict ? ` <strong class="${verdict.cls} badge">${esc(verdict.label)}</strong>` : ''}</p>`,
      `<p>In a terminal: <code>serverless-mesh verify ${esc(this.source)} --from ${esc(from)} --to ${esc(ksvcKey(k))} --via ${esc(via)}</code></p>`,
    ];
    for (const variant of p!.variants) {
      const title = p!.variants.length > 1 ? `Activator ${variant.variant === 'serve' ? 'out of path' : 'in path'}: ` : 'Result: ';
      out.push(`<p class="variant">${title}<strong>${variant.allowed ? 'ALLOWED' : 'REFUSED'}</strong></p><ol class="hops">`);
      variant.hops.forEach((h, i) => {
        const deciding = h.decision !== 'ALLOW' || i === variant.hops.length - 1;
        const by = h.policy ? ` by <strong>${esc(h.policy)}</strong>${h.rule !== null ? ` rules[${h.rule}]` : ''}` : '';
        out.push(
          `<li${deciding ? ' class="deciding"' : ''}><span class="hop">${esc(h.hop)}</span>: <span class="d-${h.decision === 'ALLOW' ? 'allow' : 'deny'}">${esc(h.decision)}</span>${by} — ${esc(h.reason)}${deciding ? ' <em>(deciding hop)</em>' : ''}</li>`,
        );
      });
      for (const s of variant.skipped) out.push(`<li class="skipped"><span class="hop">${esc(s)}</span>: not reached</li>`);
      out.push('</ol>');
    }
    out.push(`<p><a href="#m-${via}">Back to the ${esc(via)} matrix</a></p></section>`);
    return out.join('');
  }
}

function cellHtml(st: Cell, title: string, href: string | null): string {
  const c = CELL[st];
  if (st === Cell.None) return '<td class="c0"></td>';
  const inner = href ? `<a href="#${href}">${c.text}</a>` : c.text;
  return `<td class="${c.cls}" title="${esc(title)}">${inner}</td>`;
}

function unitSuffix(u: Unit): string {
  return u.kind === 'namespace' ? '' : `<span class="unit">${u.kind} ${esc(u.label)}</span>`;
}

/** One (namespace × Knative Service) table; `explain` says whether a cell gets its explanation. */
function detailTable(
  m: KnativeModel,
  mx: Matrix,
  via: Via,
  sources: readonly number[],
  targets: readonly number[],
  state: (si: number, ti: number) => Cell,
  ex: Explanations,
  explainAll: boolean,
  caption: string,
): string {
  const vertical = targets.length > 8 ? ' class="vert"' : '';
  const head = targets
    .map((ti) => {
      const k = m.ksvcs[ti]!;
      return `<th scope="col"${vertical}>${esc(ksvcKey(k))}${unitSuffix(mx.units[mx.unitOfTarget[ti]!]!)}</th>`;
    })
    .join('');
  const rows = sources.map((si) => {
    const s = m.sources[si]!;
    const tds = targets.map((ti) => {
      const st = state(si, ti);
      const bad = st === Cell.Leak || st === Cell.Broken;
      const href = st !== Cell.None && (explainAll || bad) ? ex.id(si, ti, via) : null;
      return cellHtml(st, `${s} → ${ksvcKey(m.ksvcs[ti]!)} via ${via}: ${CELL[st].label}`, href);
    });
    return `<tr><th scope="row">${esc(s)}${unitSuffix(mx.units[mx.unitOfSource[si]!]!)}</th>${tds.join('')}</tr>`;
  });
  return `<div class="scroll" tabindex="0" role="region" aria-label="${esc(caption)}"><table class="matrix"><caption class="sr">${esc(caption)}</caption><thead><tr><th scope="col">from \\ to</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

interface Drill {
  id: string;
  html: string;
}

function matrixSection(
  m: KnativeModel,
  mx: Matrix,
  via: Via,
  ex: Explanations,
  lim: ReportLimits,
  drills: Drill[],
  source: string,
): string {
  const arr = mx.cells.get(via)!;
  const T = m.ksvcs.length;
  const U = mx.units.length;
  const out: string[] = [`<section class="via" id="m-${via}" aria-labelledby="m-${via}-h"><h3 id="m-${via}-h">${esc(VIA_TITLE[via])}</h3>`];
  if (T === 0 || m.sources.length === 0) {
    out.push('<p>No Knative Service or no source namespace: nothing to show.</p></section>');
    return out.join('');
  }
  const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
  if (mx.detailed) {
    const explainAll = m.sources.length * T * VIAS.length <= lim.explainAll;
    out.push(
      detailTable(
        m,
        mx,
        via,
        ids(m.sources.length),
        ids(T),
        (si, ti) => arr[si * T + ti] as Cell,
        ex,
        explainAll,
        `Requests ${VIA_TITLE[via]}: rows are source namespaces, columns Knative Services`,
      ),
    );
  } else {
    const exceptions: Array<[number, number]> = [];
    const drillId = (i: number, j: number): string | null => {
      const id = `d-${via}-${i}-${j}`;
      if (drills.some((d) => d.id === id)) return id;
      if (drills.length >= lim.drillDowns) return null;
      const a = mx.units[i]!;
      const b = mx.units[j]!;
      const table = detailTable(
        m,
        mx,
        via,
        a.sources,
        b.targets,
        (si, ti) => pairState(m, mx, m.sources[si]!, m.ksvcs[ti]!, via),
        ex,
        false,
        `${a.label} → ${b.label} ${VIA_TITLE[via]}, per namespace`,
      );
      drills.push({
        id,
        html: `<section class="expl" id="${id}" aria-labelledby="${id}-h"><h4 id="${id}-h">${esc(a.label)} → ${esc(b.label)} via ${esc(via)}, per namespace</h4>${table}<p><a href="#m-${via}">Back to the ${esc(via)} matrix</a></p></section>`,
      });
      return id;
    };
    const title = (i: number, j: number, st: Cell) => `${mx.units[i]!.label} → ${mx.units[j]!.label} via ${via}: ${CELL[st].label}`;
    if (U <= lim.gridUnits) {
      const head = mx.units.map((u) => `<th scope="col"${U > 8 ? ' class="vert"' : ''}>${esc(u.label)}</th>`).join('');
      const rows = mx.units.map((u, i) => {
        const tds = mx.units.map((_, j) => {
          const st = arr[i * U + j]! as Cell;
          const bad = st === Cell.Leak || st === Cell.Broken;
          if (bad) exceptions.push([i, j]);
          return cellHtml(st, title(i, j, st), bad ? drillId(i, j) : null);
        });
        return `<tr><th scope="row">${esc(u.label)}</th>${tds.join('')}</tr>`;
      });
      out.push(
        `<div class="scroll" tabindex="0" role="region" aria-label="${esc(VIA_TITLE[via])}, per unit"><table class="matrix"><caption class="sr">Requests ${esc(VIA_TITLE[via])}: rows and columns are isolation units (tenants); a cell is the worst of its namespace pairs</caption><thead><tr><th scope="col">from \\ to</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`,
      );
    } else {
      // One character per unit pair: markup only where a cell breaks its expectation. A row's plain
      // runs are decoded from bytes at once (1,000 × 1,000 cells per path: concatenating characters
      // one by one cost a second of string building and garbage collection).
      const rows: string[] = [];
      const bytes = new Uint8Array(U);
      for (let i = 0; i < U; i++) {
        const row = arr.subarray(i * U, (i + 1) * U);
        let line = '';
        let from = 0;
        for (let j = 0; j < U; j++) {
          const st = row[j] as Cell;
          bytes[j] = CHAR_CODE[st]!;
          if (st !== Cell.Leak && st !== Cell.Broken) continue;
          exceptions.push([i, j]);
          // Past the budget (a mesh without any isolation policy leaks everywhere) the letter stays plain.
          if (exceptions.length > lim.gridMarkup) continue;
          const id = drillId(i, j);
          const cell = `<span class="${CELL[st].cls}" title="${esc(title(i, j, st))}">${CELL[st].char}</span>`;
          line += ASCII.decode(bytes.subarray(from, j)) + (id ? `<a href="#${id}">${cell}</a>` : cell);
          from = j + 1;
        }
        rows.push(`<tr><th scope="row">${esc(mx.units[i]!.label)}</th><td>${line}${ASCII.decode(bytes.subarray(from, U))}</td></tr>`);
      }
      if (exceptions.length > lim.gridMarkup)
        out.push(
          `<p><strong>${exceptions.length} unit pairs break their expectation on this path</strong>; the first ${lim.gridMarkup} are marked in colour, the others only by their letter.</p>`,
        );
      out.push(
        `<p>${U} units: one character per unit pair, columns in the same order as the rows (${legendChars()}).</p>`,
        `<div class="scroll" tabindex="0" role="region" aria-label="${esc(VIA_TITLE[via])}, per unit"><table class="grid"><caption class="sr">Requests ${esc(VIA_TITLE[via])}, per unit</caption><tbody>${rows.join('')}</tbody></table></div>`,
      );
    }
    if (exceptions.length) {
      const items = exceptions.slice(0, lim.drillDowns).map(([i, j]) => {
        const st = arr[i * U + j]! as Cell;
        const id = drillId(i, j);
        const text = `${esc(mx.units[i]!.label)} → ${esc(mx.units[j]!.label)}: ${CELL[st].text}`;
        return `<li>${id ? `<a href="#${id}">${text}</a>` : text}</li>`;
      });
      const more = exceptions.length > lim.drillDowns ? `<li>… and ${exceptions.length - lim.drillDowns} more</li>` : '';
      out.push(`<p>Unit pairs that break their expectation on this path:</p><ul class="exceptions">${items.join('')}${more}</ul>`);
    }
    out.push(
      `<p class="hint">Per namespace: <code>serverless-mesh verify ${esc(source)} --from NAMESPACE --to NAMESPACE/KSVC --via ${esc(via)}</code>.</p>`,
    );
  }
  out.push('</section>');
  return out.join('');
}

function legendChars(): string {
  return [Cell.Allowed, Cell.Refused, Cell.Open, Cell.Closed, Cell.Leak, Cell.Broken]
    .map((c) => `<code>${CELL[c].char}</code> ${esc(CELL[c].label)}`)
    .join('; ');
}

function legend(): string {
  const items = [Cell.Leak, Cell.Broken, Cell.Allowed, Cell.Refused, Cell.Open, Cell.Closed].map(
    (c) => `<li><span class="swatch ${CELL[c].cls}">${CELL[c].text}</span> ${esc(CELL[c].label)}</li>`,
  );
  return `<ul class="legend">${items.join('')}</ul>`;
}

function edgeRowHtml(e: EdgeRow): string {
  return `<tr><td>${e.allowed ? '<span class="c4 badge">✓ holds</span>' : '<span class="c5 badge">✗ BLOCKED</span>'}</td><td>${esc(e.description)}</td><td>${esc(e.target ?? 'system')}</td><td>${esc(e.hop)}</td><td>${esc(e.policy ?? '—')}</td><td>${esc(e.reason)}${e.allowed ? '' : `<br><strong>Impact:</strong> ${esc(e.impact)}`}</td></tr>`;
}

const EDGE_HEAD =
  '<thead><tr><th scope="col">Status</th><th scope="col">Edge</th><th scope="col">Target</th><th scope="col">Deciding hop</th><th scope="col">Policy</th><th scope="col">Reason</th></tr></thead>';

/** Every edge up to `limit` rows; beyond, one line per kind of edge and the blocked ones (they are what matters). */
function edgesSection(rows: readonly EdgeRow[], limit: number): string {
  if (rows.length === 0) return '<p>No required edges (Knative Serving is not part of this input).</p>';
  const table = (rs: readonly EdgeRow[], caption: string) =>
    `<div class="scroll" tabindex="0" role="region" aria-label="${esc(caption)}"><table class="edges"><caption class="sr">${esc(caption)}</caption>${EDGE_HEAD}<tbody>${rs.map(edgeRowHtml).join('')}</tbody></table></div>`;
  if (rows.length <= limit) return table(rows, 'Requests Knative itself needs');
  const byEdge = new Map<string, { total: number; held: number; example: EdgeRow }>();
  for (const e of rows) {
    const g = byEdge.get(e.edge) ?? { total: 0, held: 0, example: e };
    g.total++;
    if (e.allowed) g.held++;
    byEdge.set(e.edge, g);
  }
  const summary = [...byEdge].map(
    ([id, g]) =>
      `<tr><td>${g.held === g.total ? '<span class="c4 badge">✓ holds</span>' : '<span class="c5 badge">✗ BLOCKED</span>'}</td><th scope="row">${esc(id)}</th><td>${g.held} of ${g.total}</td><td>${esc(g.example.description)}</td></tr>`,
  );
  const blocked = rows.filter((e) => !e.allowed);
  return [
    `<p>${rows.length} required edges, one line per kind (example: the first one); the blocked ones follow${blocked.length > limit ? ` (the first ${limit} of ${blocked.length})` : ''}.</p>`,
    `<div class="scroll" tabindex="0" role="region" aria-label="Required edges per kind"><table class="edges"><caption class="sr">Requests Knative itself needs, per kind</caption><thead><tr><th scope="col">Status</th><th scope="col">Edge</th><th scope="col">Hold</th><th scope="col">Example</th></tr></thead><tbody>${summary.join('')}</tbody></table></div>`,
    blocked.length ? table(blocked.slice(0, limit), 'Blocked required edges') : '',
  ].join('');
}

function notesHtml(notes: readonly string[]): string {
  return notes.length ? `<p>Not looked at:</p><ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
}

function findingsSection(findings: readonly Finding[], tool: HtmlReportInput['tool']): string {
  if (findings.length === 0) return '<p>No findings.</p>';
  const groups = new Map<string, Finding[]>();
  for (const f of sortFindings([...findings])) {
    const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}${f.line && f.column ? `:${f.column}` : ''} ` : '';
    const key = `${where}${resourceKey(f.resource)}`;
    const l = groups.get(key);
    if (l) l.push(f);
    else groups.set(key, [f]);
  }
  const out: string[] = [];
  for (const [key, fs] of groups) {
    const items = fs.map((f) => {
      const at = f.reachability
        ? `<br>at ${esc(f.reachability.hop)}${f.reachability.policy ? ` (${esc(f.reachability.policy)})` : ''}`
        : '';
      const href = `${tool.informationUri}/blob/main/${f.docs}`;
      return `<li><span class="sev sev-${f.severity}">${f.severity}</span> <a href="${esc(href)}">${esc(f.code)}</a> ${esc(f.message)}${at}<br><strong>Fix:</strong> ${esc(f.fix)}</li>`;
    });
    out.push(`<section class="resource"><h3>${esc(key)}</h3><ul>${items.join('')}</ul></section>`);
  }
  return out.join('');
}

function bundleSection(b: HtmlReportInput['bundle'], budget: number, source: string): string {
  let text = '';
  let shown = 0;
  for (const o of b.objects) {
    const doc = `---\n${emitYaml(o)}`;
    if (text.length + doc.length > budget) break;
    text += doc;
    shown++;
  }
  const rest = b.objects.slice(shown);
  let note = '';
  if (rest.length) {
    const kinds = new Map<string, number>();
    for (const o of rest) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    note = `<p>The first ${shown} of ${b.objects.length} objects are shown (size limit); not shown: ${[...kinds]
      .map(([k, n]) => `${n} ${esc(k)}`)
      .join(', ')}. ${source.startsWith('-f') ? `All of them: <code>serverless-mesh render ${esc(source)}</code>.` : ''}</p>`;
  }
  return `<details class="bundle"><summary>${esc(b.title)}: ${b.objects.length} objects</summary>${note}<pre tabindex="0" aria-label="${esc(b.title)}">${esc(text)}</pre></details>`;
}

const CSS = `
*{box-sizing:border-box}
body{font-family:sans-serif;font-size:15px;line-height:1.4;color:#1a1a1a;background:#fff;margin:0 auto;padding:16px 24px;max-width:1400px}
*,*::before,*::after{animation:none!important;transition:none!important}
h1{font-size:1.6em;margin:0 0 4px}
h2{font-size:1.3em;border-bottom:2px solid #ccc;padding-bottom:2px;margin-top:28px}
h3{font-size:1.1em;margin:18px 0 6px}
h4{margin:0 0 6px}
code,pre{font-family:monospace;font-size:13px}
.meta{color:#444;margin:0}
.verdict{font-size:1.15em;font-weight:bold;padding:8px 12px;border:2px solid;display:inline-block;margin:8px 0}
.verdict.ok{background:#e6f4ea;color:#14532d;border-color:#14532d}
.verdict.bad{background:#b3261e;color:#fff;border-color:#7a1a14}
.verdict.none{background:#eef;color:#1e3a8a;border-color:#1e3a8a}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0}
dl.summary dt{font-weight:bold}dl.summary dd{margin:0}
.scroll{overflow:auto;max-width:100%}
.vias{display:flex;flex-wrap:wrap;gap:0 28px;align-items:flex-start}
.vias>section{max-width:100%}
.vias .scroll{max-height:80vh}
table{border-collapse:collapse;margin:4px 0}
caption{text-align:left;font-style:italic;color:#444;padding:2px 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
th,td{border:1px solid #999;padding:3px 6px;font-size:13px}
thead th{background:#f0f0f0;position:sticky;top:0}
th[scope=row]{background:#f7f7f7;text-align:left;white-space:nowrap;position:sticky;left:0}
th.vert{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;vertical-align:bottom}
.unit{display:block;font-weight:normal;color:#444;font-size:11px}
th.vert .unit{display:inline;margin-top:4px}
table.matrix td{text-align:center;min-width:4.2em;font-weight:bold}
td a,.swatch a{color:inherit}
.c0{background:#fff}
.c1{background:#f5f5f5;color:#4a4a4a}
.c2{background:#e8ecef;color:#2f3d45}
.c3{background:#dbe9ff;color:#1e3a8a}
.c4{background:#d4edda;color:#14532d}
.c5{background:#ffd54f;color:#000;outline:2px dashed #000;outline-offset:-3px}
.c6{background:#b3261e;color:#fff}
table.grid td{font-family:monospace;font-size:12px;white-space:pre;padding:0 4px;line-height:1.2}
table.grid th{font-size:12px;padding:0 4px}
table.grid span.c5,table.grid span.c6{font-weight:bold;outline:none}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px 18px}
.swatch{display:inline-block;min-width:4.2em;text-align:center;font-weight:bold;font-size:13px;padding:1px 4px;border:1px solid #999}
.badge{padding:1px 6px;font-weight:bold;white-space:nowrap}
.expl{display:none;border:2px solid #1a1a1a;padding:8px 12px;margin:10px 0;background:#fffdf5}
.expl:target{display:block}
@media print{.expl{display:block}details.bundle>pre{display:block}}
ol.hops li{margin:2px 0}
li.deciding{background:#fff3c4}
li.skipped{color:#4a4a4a}
.d-allow{color:#14532d;font-weight:bold}.d-deny{color:#8b1a13;font-weight:bold}
.sev{font-weight:bold;padding:0 6px;border:1px solid}
.sev-error{background:#b3261e;color:#fff}.sev-warning{background:#ffd54f;color:#000}.sev-info{background:#dbe9ff;color:#1e3a8a}
section.resource ul{margin-top:2px}section.resource li{margin:4px 0}
details.bundle pre{background:#f7f7f7;border:1px solid #ccc;padding:8px;overflow:auto;max-height:70vh}
.hint{color:#333}
a{color:#0b4fa8}
`;

/** The report as one HTML document, and what it found (the CLI's exit code). */
export function renderHtmlReport(input: HtmlReportInput): {
  html: string;
  findings: Finding[];
  notes: readonly string[];
  leaks: number;
  broken: number;
  blocked: number;
} {
  const lim: ReportLimits = { ...DEFAULT_LIMITS, ...input.limits };
  const m = input.model;
  // Expanded rows where the layout is detailed: every finding then names its pair and deciding hop.
  const rep = verifyModel(m, { expandRows: m.sources.length <= lim.detailSources && m.ksvcs.length <= lim.detailTargets });
  // check's SM5001–SM5003 run verify on a model built from the objects alone; the report shows the
  // matrix of `model` (for -f: with the spec's tenants and control-plane defaults), so its findings
  // come from that same run, or the summary and the findings could disagree.
  const verifyCodes = new Set<string>(Object.values(VERIFY_RULES).map((r) => r.code));
  const findings = [...input.findings.filter((f) => !verifyCodes.has(f.code)), ...rep.findings];
  const mx = buildMatrix(m, rep.byTarget, lim);
  const ex = new Explanations(m, input.source, lim.explanations);
  const drills: Drill[] = [];
  const matrices = VIAS.map((via) => matrixSection(m, mx, via, ex, lim, drills, input.source));

  const tenants = new Set(m.tenantOf.values()).size;
  const namespaces = new Set([...m.tenantOf.keys(), ...m.members, ...m.sources]).size;
  const sev = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const eventingBad = (code: string) =>
    rep.findings.filter((f) => f.code === code && f.reachability?.via !== undefined && !VIAS.includes(f.reachability.via as Via)).length;
  const evLeaks = eventingBad('SM5001');
  const evBroken = eventingBad('SM5002');
  const leaks = mx.counts.leak + evLeaks;
  const broken = mx.counts.broken + evBroken;
  const blocked = rep.requiredEdges.filter((e) => !e.allowed).length;
  const isolated = m.tenantOf.size > 0;
  const verdict = !isolated
    ? '<p class="verdict none" role="status">No isolation expected: the mesh has no tenants (every mesh caller may call every Knative Service)</p>'
    : leaks > 0
      ? `<p class="verdict bad" role="status">NOT ISOLATED: ${leaks} cross-tenant request(s) allowed</p>`
      : '<p class="verdict ok" role="status">Isolated: no cross-tenant request is allowed on an in-mesh path</p>';
  const omitted =
    ex.omitted > 0
      ? `<p>${ex.omitted} cell explanation(s) were not written (limit ${lim.explanations}): <code>serverless-mesh verify ${esc(input.source)} --from NAMESPACE --to NAMESPACE/KSVC --via PATH</code> prints any of them.</p>`
      : '';
  const layout = mx.detailed
    ? `One cell per source namespace and Knative Service${m.sources.length * m.ksvcs.length * VIAS.length <= lim.explainAll ? '; every cell links to its hop-by-hop explanation' : '; cells that break their expectation link to their hop-by-hop explanation'}.`
    : `${m.sources.length} source namespaces × ${m.ksvcs.length} Knative Services, aggregated by isolation unit (a cell is the worst of its namespace pairs); a unit pair that breaks its expectation links to its per-namespace drill-down.`;

  const body = [
    `<header><h1>serverless-mesh report</h1><p class="meta">Input: <code>${esc(input.source)}</code> · mesh ${esc(m.flavor)}, root namespace ${esc(m.mesh.rootNamespace)} · ${esc(input.tool.name)} ${esc(input.tool.version)}${input.generated ? ` · generated ${esc(input.generated)}` : ''}</p></header>`,
    '<nav aria-label="Contents"><a href="#summary">Summary</a> · <a href="#matrix">Reachability</a> · <a href="#edges">Required edges</a> · <a href="#findings">Findings</a> · <a href="#bundle">Bundle</a></nav>',
    '<main>',
    `<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>${verdict}`,
    `<dl class="summary"><dt>Tenants</dt><dd>${tenants}</dd><dt>Namespaces</dt><dd>${namespaces} (${m.sources.length} calling)</dd><dt>Knative Services</dt><dd>${m.ksvcs.length}${m.ksvcs.some((k) => k.representative) ? ' (one per namespace stands in where no Knative Service was given)' : ''}</dd>`,
    `<dt>Findings</dt><dd>${sev('error')} error, ${sev('warning')} warning, ${sev('info')} info</dd>`,
    `<dt>Reachability</dt><dd>${leaks} leak(s), ${broken} same-tenant request(s) refused${evLeaks + evBroken ? ` (of which on eventing paths: ${evLeaks} and ${evBroken}${evLeaks + evBroken >= EVENTING_CAP ? `, verify lists at most ${EVENTING_CAP}` : ''})` : ''}, ${blocked} of ${rep.requiredEdges.length} required edge(s) blocked</dd></dl></section>`,
    `<section id="matrix" aria-labelledby="matrix-h"><h2 id="matrix-h">Reachability per path</h2><p>${layout} In-mesh paths (direct, activator, local gateway) must stay inside each tenant; external and no-sidecar paths carry no isolation expectation.</p>${legend()}${omitted}`,
    '<div class="vias">',
    ...matrices,
    '</div>',
    '<div class="explanations">',
    ...drills.map((d) => d.html),
    ...ex.written.values(),
    '</div></section>',
    `<section id="edges" aria-labelledby="edges-h"><h2 id="edges-h">Required system edges</h2>${edgesSection(rep.requiredEdges, lim.edges)}</section>`,
    `<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings (check)</h2>${notesHtml(input.notes ?? [])}${findingsSection(findings, input.tool)}</section>`,
    `<section id="bundle" aria-labelledby="bundle-h"><h2 id="bundle-h">Bundle</h2>${bundleSection(input.bundle, lim.bundleBytes, input.source)}</section>`,
    '</main>',
  ];
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>serverless-mesh report: ${esc(input.source)}</title>
<style>${CSS}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
  return { html, findings, notes: input.notes ?? [], leaks, broken, blocked };
}
