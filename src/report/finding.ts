/**
 * Findings are data, shared by `check` and `verify`: one type, rendered as text, JSON or SARIF
 * (src/report/render.ts). Codes are `SM` + 4 digits, never reused (docs/rules.md).
 */

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { info: 0, warning: 1, error: 2 };

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** Reachability part of a `verify` finding: who called whom, on which path, where it was decided. */
export interface Reachability {
  from: string;
  to: string;
  via: string;
  /** The hop that decided (first refusing one, else the last). */
  hop: string;
  /** `namespace/name` of the deciding policy, or null. */
  policy: string | null;
}

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  resource: ResourceRef;
  file?: string;
  line?: number;
  column?: number;
  /** How to fix it. */
  fix: string;
  /** Where the rule is documented (docs/rules.md anchor). */
  docs: string;
  reachability?: Reachability;
}

export const docsUrl = (code: string): string => `docs/rules.md#${code.toLowerCase()}`;

export const resourceKey = (r: ResourceRef): string => `${r.kind}${r.namespace ? ` ${r.namespace}/` : ' '}${r.name}`;

/** Stable order: file and line first when known, then resource, then code. */
export function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      resourceKey(a.resource).localeCompare(resourceKey(b.resource)) ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}
