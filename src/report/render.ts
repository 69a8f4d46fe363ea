/** Renderings of findings: text grouped by resource, JSON, SARIF 2.1.0. Pure: the caller writes the string. */
import { resourceKey, sortFindings, type Finding, type Severity } from './finding.ts';

/** What SARIF needs to know about a rule (check's RuleMeta and verify's codes both provide it). */
export interface RuleDescriptor {
  code: string;
  name: string;
  title: string;
  description: string;
  severity: Severity;
  fix: string;
}

const COLOUR: Record<Severity, string> = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m' };
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

export function renderText(findings: Finding[], opts: { colour?: boolean; summaryFor?: number } = {}): string {
  const c = opts.colour === true;
  const groups = new Map<string, Finding[]>();
  for (const f of sortFindings(findings)) {
    const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}${f.line && f.column ? `:${f.column}` : ''} ` : '';
    const key = `${where}${resourceKey(f.resource)}`;
    const l = groups.get(key);
    if (l) l.push(f);
    else groups.set(key, [f]);
  }
  const lines: string[] = [];
  for (const [key, fs] of groups) {
    lines.push(c ? `${BOLD}${key}${RESET}` : key);
    for (const f of fs) {
      const sev = c ? `${COLOUR[f.severity]}${f.severity}${RESET}` : f.severity;
      lines.push(`  ${sev} ${f.code} ${f.message}`);
      if (f.reachability) lines.push(`    at ${f.reachability.hop}${f.reachability.policy ? ` (${f.reachability.policy})` : ''}`);
      if (f.fix) lines.push(`    fix: ${f.fix}`);
    }
  }
  const n = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const total = opts.summaryFor !== undefined ? ` in ${opts.summaryFor} objects` : '';
  lines.push(
    findings.length === 0 ? `no findings${total}` : `${n('error')} error(s), ${n('warning')} warning(s), ${n('info')} info${total}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `notes`: what the run could not look at (skipped rules, kinds the cluster does not serve), when anything. */
export function renderJson(findings: Finding[], notes: readonly string[] = []): string {
  return `${JSON.stringify({ findings: sortFindings(findings), ...(notes.length ? { notes } : {}) }, null, 2)}\n`;
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/**
 * A SARIF artifact URI (the schema's `uri-reference` format): each path segment percent-encoded, an
 * absolute path as a `file://` URL; a relative one stays relative so code scanning resolves it
 * against the repository root.
 */
export function fileUri(path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return path.startsWith('/') ? `file://${encoded}` : encoded;
}

/** SARIF 2.1.0 log with one run; rules carry metadata so code-scanning UIs can show them. */
export function renderSarif(
  findings: Finding[],
  rules: RuleDescriptor[],
  tool: { name: string; version: string; informationUri: string },
  /** What the run could not look at (skipped rules, absent kinds): SARIF tool execution notifications. */
  notes: readonly string[] = [],
): string {
  const index = new Map(rules.map((r, i) => [r.code, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            informationUri: tool.informationUri,
            rules: rules.map((r) => ({
              id: r.code,
              name: r.name,
              shortDescription: { text: r.title },
              fullDescription: { text: r.description },
              help: { text: r.fix },
              helpUri: `${tool.informationUri}/blob/main/docs/rules.md#${r.code.toLowerCase()}`,
              defaultConfiguration: { level: LEVEL[r.severity] },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            ...(notes.length ? { toolExecutionNotifications: notes.map((text) => ({ level: 'note', message: { text } })) } : {}),
          },
        ],
        results: sortFindings(findings).map((f) => {
          const logical = {
            kind: 'resource',
            fullyQualifiedName: `${f.resource.apiVersion}/${f.resource.kind}/${f.resource.namespace ?? ''}/${f.resource.name}`,
            name: f.resource.name,
          };
          const result: Record<string, unknown> = {
            ruleId: f.code,
            level: LEVEL[f.severity],
            message: { text: f.fix ? `${f.message} Fix: ${f.fix}` : f.message },
            locations: [
              {
                ...(f.file
                  ? {
                      physicalLocation: {
                        artifactLocation: { uri: fileUri(f.file) },
                        ...(f.line ? { region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}) } } : {}),
                      },
                    }
                  : {}),
                logicalLocations: [logical],
              },
            ],
          };
          const i = index.get(f.code);
          if (i !== undefined) result.ruleIndex = i;
          if (f.reachability) result.properties = { reachability: f.reachability };
          return result;
        }),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
