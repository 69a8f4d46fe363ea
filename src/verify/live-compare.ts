/**
 * `verify --live`, the pure half that reads what the probes saw: parse the probe output
 * (live-plan.ts probeScript), decide per request whether the service was reached, the mesh refused,
 * or the outcome is unknown, and compare with the prediction. Every disagreement is a finding.
 */
import type { Finding } from '../report/finding.ts';
import { ksvcRef, verifyFinding, VERIFY_RULES } from './findings.ts';
import { PROBE_MARKER, type LivePlan, type ProbePod, type ProbeRequest } from './live-plan.ts';

export interface ProbeResult {
  id: string;
  /** curl's exit code. */
  rc: number;
  /** HTTP status, 0 when none was received. */
  http: number;
  err: string;
  body: string;
}

export type LiveVerdict = 'reached' | 'refused' | 'unknown';

export interface Classified {
  verdict: LiveVerdict;
  /** Why, in words: what the evidence means. */
  evidence: string;
}

const LINE = new RegExp(`^${PROBE_MARKER} (\\S+) rc=(\\d+) http=(\\d{3}) err=(.*?) body=(.*)$`);

/** Result lines by request id; anything else in the output (shell noise, a truncated line) is ignored. */
export function parseProbeOutput(stdout: string): Map<string, ProbeResult> {
  const out = new Map<string, ProbeResult>();
  for (const raw of stdout.split(/\r?\n/)) {
    const m = LINE.exec(raw.trimEnd());
    if (!m) continue;
    out.set(m[1]!, { id: m[1]!, rc: Number(m[2]), http: Number(m[3]), err: m[4]!.trim(), body: m[5]!.trim() });
  }
  return out;
}

// Envoy's 503 bodies when the upstream connection failed or was reset before a response: behind a client
// sidecar this is how a server sidecar's refusal surfaces (a STRICT-mTLS mismatch, or an RBAC *network*
// filter, which closes the connection instead of answering 403 — Istio docs "Authorization for TCP
// traffic": a denied TCP connection is closed).
const RESET_503 = /upstream connect error|disconnect\/reset before headers|connection termination|connection failure|reset reason/i;

/**
 * What one request's result means. Exact about the mesh's signals:
 * - HTTP 403 with body `RBAC: access denied` is Envoy's RBAC HTTP filter: an AuthorizationPolicy refused
 *   (docs §2.4's denied example; Istio "Authorization for HTTP traffic").
 * - A connection reset (curl 56), an empty reply (52), a TLS handshake failure (35), or Envoy's 503
 *   "upstream connect error … reset" are refusals too: a plaintext caller to a STRICT-mTLS sidecar is
 *   cut off during the handshake, and a TCP-level policy closes the connection.
 * - Any other HTTP status (200, 404, 3xx, 500 from the app, queue-proxy or activator) means the request
 *   reached the service: authorization is decided before routing to the app.
 * - 502/504/other 503 (`no healthy upstream`), timeouts (28), DNS failure (6), connection refused (7, nothing
 *   listening or a rejecting NetworkPolicy), certificate errors (60, 77) and anything else: unknown —
 *   neither a reach nor a refusal, reported on its own.
 */
export function classifyResult(r: ProbeResult): Classified {
  const body = r.body.slice(0, 80);
  if (r.rc === 0 && r.http > 0) {
    if (r.http === 403 && /RBAC: access denied/.test(r.body))
      return { verdict: 'refused', evidence: 'HTTP 403 "RBAC: access denied" (Envoy RBAC filter)' };
    if (r.http === 503 && RESET_503.test(r.body))
      return { verdict: 'refused', evidence: `HTTP 503 from the caller's sidecar: the upstream reset the connection (${body})` };
    if (r.http === 502 || r.http === 503 || r.http === 504)
      return {
        verdict: 'unknown',
        evidence: `HTTP ${r.http}${body ? ` "${body}"` : ''}: no upstream answered (not an authorization decision)`,
      };
    return { verdict: 'reached', evidence: `HTTP ${r.http}${r.http === 403 ? ` (not Envoy's RBAC body: "${body}")` : ''}` };
  }
  const err = r.err ? `: ${r.err.slice(0, 120)}` : '';
  switch (r.rc) {
    case 52:
      return { verdict: 'refused', evidence: `empty reply (curl 52): the server side closed the connection${err}` };
    case 56:
      return { verdict: 'refused', evidence: `connection reset (curl 56): a STRICT-mTLS sidecar or a TCP policy cut it off${err}` };
    case 35:
      return { verdict: 'refused', evidence: `TLS handshake failed (curl 35): the listener wants mesh mTLS${err}` };
    case 28:
      return { verdict: 'unknown', evidence: `timeout (curl 28)${err}` };
    case 6:
      return { verdict: 'unknown', evidence: `DNS lookup failed (curl 6)${err}` };
    case 7:
      return { verdict: 'unknown', evidence: `connection refused (curl 7): nothing listening, or a NetworkPolicy rejecting${err}` };
    case 60:
    case 77:
      return { verdict: 'unknown', evidence: `certificate not verified (curl ${r.rc}): is --ca-file the root CA?${err}` };
    default:
      return { verdict: 'unknown', evidence: `curl exit ${r.rc}${r.http ? `, HTTP ${r.http}` : ''}${err}` };
  }
}

export interface LiveRow {
  id: string;
  from: string;
  to: string;
  via: string;
  sidecar: boolean;
  /** Predicted allowed per variant. */
  predicted: Array<{ variant: string; allowed: boolean }>;
  /** `reached` / `refused` / `unknown`, or `not-run` when no request was made. */
  live: LiveVerdict | 'not-run';
  evidence: string;
  agrees: boolean;
  command: string;
}

export interface PodOutcome {
  namespace: string;
  pod: string;
  /** What the pod printed (exec stdout), when it ran. */
  stdout?: string;
  /** Why its requests were not made (creation forbidden, never Running, exec failed…). */
  notRun?: string;
}

export interface LiveReport {
  runId: string;
  rows: LiveRow[];
  findings: Finding[];
  notes: string[];
}

const predictedText = (p: ProbeRequest['prediction']): string => {
  const a = new Set(p.variants.map((v) => v.allowed));
  return a.size > 1 ? 'allowed or refused depending on the activator' : a.has(true) ? 'allowed' : 'refused';
};

function notRunFinding(message: string, resource: Finding['resource'], r?: ProbeRequest): Finding {
  return verifyFinding(
    VERIFY_RULES.liveNotRun,
    message,
    resource,
    r
      ? { from: r.from, to: `${r.target.namespace}/${r.target.name}`, via: r.via, hop: r.prediction.hop, policy: r.prediction.policy }
      : undefined,
  );
}

/** Findings for targets the cluster does not have (resolved by the CLI before the plan). */
export function missingTargetFinding(namespace: string, name: string, why: string): Finding {
  return notRunFinding(`${namespace}/${name}: not probed: ${why}`, ksvcRef({ namespace, name }));
}

/**
 * Compares every planned request with what its pod printed. A pod that did not run gives one finding
 * (naming its namespace and why), not one per request; a missing result line is an unknown outcome.
 */
export function compareLive(plan: LivePlan, outcomes: readonly PodOutcome[]): LiveReport {
  const byPod = new Map(outcomes.map((o) => [`${o.namespace}/${o.pod}`, o]));
  const rows: LiveRow[] = [];
  const findings: Finding[] = [];
  for (const pod of plan.pods) {
    const o = byPod.get(`${pod.namespace}/${pod.name}`);
    const notRun = o?.notRun ?? (o?.stdout === undefined ? 'no result (interrupted or not attempted)' : undefined);
    if (notRun !== undefined) {
      findings.push(
        notRunFinding(`${pod.namespace}: ${pod.requests.length} request(s) from ${podKind(pod)} not made: ${notRun}`, {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: pod.namespace,
          name: pod.name,
        }),
      );
      for (const r of pod.requests) rows.push(row(pod, r, 'not-run', notRun, false));
      continue;
    }
    const results = parseProbeOutput(o!.stdout!);
    for (const r of pod.requests) {
      const res = results.get(r.id);
      const c: Classified = res ? classifyResult(res) : { verdict: 'unknown', evidence: 'no result line in the probe output' };
      const alloweds = new Set(r.prediction.variants.map((v) => v.allowed));
      const agrees = c.verdict === 'reached' ? alloweds.has(true) : c.verdict === 'refused' ? alloweds.has(false) : false;
      rows.push(row(pod, r, c.verdict, c.evidence, agrees));
      if (!agrees) findings.push(disagreement(r, c));
    }
  }
  return { runId: plan.runId, rows, findings, notes: plan.notes };
}

const podKind = (p: ProbePod) => (p.sidecar ? 'the probe pod' : 'the probe pod without sidecar');

function row(pod: ProbePod, r: ProbeRequest, live: LiveRow['live'], evidence: string, agrees: boolean): LiveRow {
  return {
    id: r.id,
    from: r.from,
    to: `${r.target.namespace}/${r.target.name}`,
    via: r.via,
    sidecar: pod.sidecar,
    predicted: r.prediction.variants,
    live,
    evidence,
    agrees,
    command: r.command,
  };
}

function disagreement(r: ProbeRequest, c: Classified): Finding {
  const to = `${r.target.namespace}/${r.target.name}`;
  const which =
    c.verdict === 'reached' ? VERIFY_RULES.liveReached : c.verdict === 'refused' ? VERIFY_RULES.liveRefused : VERIFY_RULES.liveUnknown;
  const exp = r.prediction.expectation;
  const tenancy =
    c.verdict === 'reached' && exp === 'deny'
      ? ' (cross-tenant: a live leak)'
      : c.verdict === 'refused' && exp === 'allow'
        ? ' (same tenant: a broken path)'
        : '';
  const what =
    c.verdict === 'unknown'
      ? `outcome unknown (${c.evidence}); predicted ${predictedText(r.prediction)}`
      : `live ${c.verdict === 'reached' ? 'reached the service' : 'refused'} (${c.evidence}), predicted ${predictedText(r.prediction)}${tenancy}`;
  return verifyFinding(which, `${r.from} → ${to} via ${r.via}: ${what}`, ksvcRef(r.target), {
    from: r.from,
    to,
    via: r.via,
    hop: r.prediction.hop,
    policy: r.prediction.policy,
  });
}
