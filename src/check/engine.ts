/** Runs the enabled rules over a context and turns their hits into findings (suppression, severity, positions). */
import { docsUrl, SEVERITY_ORDER, type Finding, type Severity } from '../report/finding.ts';
import type { KubeObject } from '../util/kube.ts';
import type { PathSegment } from '../util/yaml-source.ts';
import type { CheckContext, Rule } from './types.ts';

/** `serverlessmesh.dev/ignore: SM1001,SM2003` on an object suppresses those codes for it (`*`: all). */
export const IGNORE_ANNOTATION = 'serverlessmesh.dev/ignore';

export interface Locator {
  /** File, line and column of `path` inside `object`, when the object came from a file. */
  (object: KubeObject, path: readonly PathSegment[]): { file: string; line?: number; column?: number } | undefined;
}

export interface RunOptions {
  /** Only these codes or names. */
  only?: readonly string[];
  skip?: readonly string[];
  /** Minimum severity reported. */
  minSeverity?: Severity;
  locate?: Locator;
}

const selects = (r: Rule, list: readonly string[]) => list.includes(r.meta.code) || list.includes(r.meta.name);

/** The rules that will run: selected, and with at least one input kind present (offline runs skip the rest, like Istio's RemoveSkipped). */
export function enabledRules(rules: readonly Rule[], ctx: CheckContext | undefined, o: RunOptions = {}): Rule[] {
  return rules.filter((r) => {
    if (o.only?.length && !selects(r, o.only)) return false;
    if (o.skip?.length && selects(r, o.skip)) return false;
    if (!ctx) return true;
    return r.meta.inputs.some((k) => k === '*' || ctx.index.has(k));
  });
}

function ignored(o: KubeObject, code: string): boolean {
  const v = o.metadata.annotations?.[IGNORE_ANNOTATION];
  if (!v) return false;
  return v.split(/[\s,]+/).some((c) => c === code || c === '*');
}

export function runRules(rules: readonly Rule[], ctx: CheckContext, o: RunOptions = {}): Finding[] {
  const min = SEVERITY_ORDER[o.minSeverity ?? 'info'];
  const out: Finding[] = [];
  for (const r of enabledRules(rules, ctx, o)) {
    if (SEVERITY_ORDER[r.meta.severity] < min) continue;
    for (const h of r.check(ctx)) {
      if (ignored(h.object, r.meta.code)) continue;
      const m = h.object.metadata;
      const f: Finding = {
        code: r.meta.code,
        severity: r.meta.severity,
        message: h.message,
        resource: {
          apiVersion: h.object.apiVersion,
          kind: h.object.kind,
          ...(m.namespace ? { namespace: m.namespace } : {}),
          name: m.name,
        },
        fix: r.meta.fix,
        docs: docsUrl(r.meta.code),
      };
      const loc = o.locate?.(h.object, h.path ?? []);
      if (loc) {
        f.file = loc.file;
        if (loc.line) f.line = loc.line;
        if (loc.column) f.column = loc.column;
      }
      out.push(f);
    }
  }
  return out;
}
