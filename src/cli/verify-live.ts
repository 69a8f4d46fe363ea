// `verify --live`: the shell around src/verify/live-plan.ts (plan), src/cluster/probe.ts (pods, exec,
// cleanup) and src/verify/live-compare.ts (what the probes saw vs the prediction).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KnativeModel, Via } from '../authz/knative.ts';
import { ApiError, type KubeClient } from '../cluster/client.ts';
import { WebSocketExecutor } from '../cluster/exec.ts';
import { toUserError } from '../cluster/ops.ts';
import { AbortedError, runProbes, type ProbeExecutor } from '../cluster/probe.ts';
import { connect } from '../cluster/session.ts';
import { emitYaml } from '../render/yaml-emit.ts';
import type { Finding } from '../report/finding.ts';
import { renderSarif, renderText } from '../report/render.ts';
import { verifyRuleDescriptors } from '../verify/findings.ts';
import { compareLive, missingTargetFinding, type LiveReport } from '../verify/live-compare.ts';
import { buildLivePlan, defaultExternalUrl, LIVE_VIAS, type LivePlan, type LiveTarget, type LiveVia } from '../verify/live-plan.ts';
import { InputError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { TOOL } from './check-commands.ts';
import { ExitCode } from './exit-codes.ts';
import type { GlobalOpts } from './arg-parsers.ts';

export interface LiveOptions {
  probeImage?: string;
  caFile?: string;
  /** Pod start deadline (ms). */
  timeout: number;
  /** Per-request curl deadline (ms). */
  requestTimeout: number;
  keepPods?: boolean;
  runAsUser?: number;
  via?: Via;
  output: 'text' | 'json' | 'yaml' | 'sarif';
}

/** Test seam: an executor other than the websocket one (never used by the CLI itself). */
export interface LiveDeps {
  executor?: (client: KubeClient) => ProbeExecutor;
}

interface KsvcObject extends KubeObject {
  status?: { url?: string; latestReadyRevisionName?: string };
}

/**
 * The model's Knative Services as the cluster has them: revision and URL from status; a representative
 * ksvc (no manifest named one) stands for every ksvc of its namespace. Missing ones become findings.
 */
async function resolveTargets(client: KubeClient, m: KnativeModel): Promise<{ targets: LiveTarget[]; missing: Finding[] }> {
  const targets: LiveTarget[] = [];
  const missing: Finding[] = [];
  const path = (ns: string, name?: string) =>
    `/apis/serving.knative.dev/v1/namespaces/${encodeURIComponent(ns)}/services${name ? `/${encodeURIComponent(name)}` : ''}`;
  const toTarget = (k: KnativeModel['ksvcs'][number], o: KsvcObject): LiveTarget => ({
    model: k,
    namespace: o.metadata.namespace ?? k.namespace,
    name: o.metadata.name,
    revision: o.status?.latestReadyRevisionName || (k.representative ? `${o.metadata.name}-00001` : k.revision),
    externalUrl: o.status?.url?.replace(/^http:/, 'https:') || defaultExternalUrl(m, { name: o.metadata.name, namespace: k.namespace }),
  });
  for (const k of m.ksvcs) {
    try {
      if (k.representative) {
        const list = await client.request<{ items: KsvcObject[] }>('GET', path(k.namespace), { retries: 2 });
        if (list.items.length === 0)
          missing.push(missingTargetFinding(k.namespace, '*', 'no Knative Service in this namespace on the cluster'));
        for (const o of list.items) targets.push(toTarget(k, o));
      } else {
        const o = await client.request<KsvcObject>('GET', path(k.namespace, k.name), { retries: 2 });
        targets.push(toTarget(k, o));
      }
    } catch (e) {
      if (!(e instanceof ApiError) || (e.code !== 404 && e.code !== 403)) throw e;
      const why =
        e.code === 403
          ? `forbidden to read Knative Services in ${k.namespace} (${e.status.message ?? '403'})`
          : /the server could not find the requested resource/.test(e.status.message ?? '') || !e.status.details?.name
            ? 'Knative Serving (serving.knative.dev/v1) is not served by the cluster'
            : 'not on the cluster';
      missing.push(missingTargetFinding(k.namespace, k.representative ? '*' : k.name, why));
    }
  }
  return { targets, missing };
}

function liveText(m: KnativeModel, plan: LivePlan, rep: LiveReport, findings: Finding[]): string {
  const lines = [`verify --live (run ${plan.runId}), mesh ${m.flavor}: ${plan.pods.length} probe pod(s), ${rep.rows.length} request(s)`];
  if (rep.rows.length) {
    const w = (f: (r: LiveReport['rows'][number]) => string, min: number) => Math.max(min, ...rep.rows.map((r) => f(r).length));
    const pred = (r: LiveReport['rows'][number]) => {
      const a = new Set(r.predicted.map((p) => p.allowed));
      return a.size > 1 ? 'either' : a.has(true) ? 'allowed' : 'refused';
    };
    const [wf, wt, wv] = [w((r) => r.from, 4), w((r) => r.to, 2), w((r) => r.via, 3)];
    lines.push('', `${'from'.padEnd(wf)}  ${'to'.padEnd(wt)}  ${'via'.padEnd(wv)}  predicted  live      `);
    for (const r of rep.rows)
      lines.push(
        `${r.from.padEnd(wf)}  ${r.to.padEnd(wt)}  ${r.via.padEnd(wv)}  ${pred(r).padEnd(9)}  ${r.live.padEnd(8)}  ${r.agrees ? 'ok' : 'DIFFERS'}  ${r.evidence}`,
      );
  }
  for (const n of rep.notes) lines.push(`note: ${n}`);
  lines.push(
    '',
    findings.length === 0 ? 'live matches the prediction' : renderText(findings, { colour: process.stdout.isTTY === true }).trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

export async function verifyLive(m: KnativeModel, o: LiveOptions, g: GlobalOpts, deps: LiveDeps = {}): Promise<ExitCode> {
  let caPem: string | undefined;
  if (o.caFile) {
    try {
      caPem = readFileSync(o.caFile, 'utf8');
    } catch (e) {
      throw new InputError(`--ca-file ${o.caFile}: cannot read: ${(e as Error).message}`);
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(caPem)) throw new InputError(`--ca-file ${o.caFile}: not a PEM certificate`);
  }
  if (o.via === 'activator')
    throw new InputError('--live --via activator: the activator path cannot be forced from a client (the local-gateway probe covers it)');
  const vias: readonly LiveVia[] = o.via ? [o.via] : LIVE_VIAS;
  const s = await connect({ kubeconfig: g.kubeconfig, context: g.context });
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const ac = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    // First Ctrl-C: stop and clean up; a second one leaves at once (the pods then stop on their own: activeDeadlineSeconds).
    if (++interrupts > 1) process.exit(ExitCode.Interrupted);
    log('interrupted: deleting the probe pods…');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const { targets, missing } = await resolveTargets(s.client, m);
    const runId = randomBytes(4).toString('hex');
    const plan = buildLivePlan(m, targets, {
      runId,
      image: o.probeImage,
      caPem,
      requestTimeoutSeconds: Math.max(1, Math.round(o.requestTimeout / 1000)),
      vias,
      runAsUser: o.runAsUser,
    });
    const requests = plan.pods.reduce((n, p) => n + p.requests.length, 0);
    log(
      `run ${runId}: ${plan.pods.length} probe pod(s) in ${new Set(plan.pods.map((p) => p.namespace)).size} namespace(s), ${requests} request(s)`,
    );
    const perPod = Math.max(0, ...plan.pods.map((p) => p.requests.length));
    const outcomes = await runProbes(s.client, plan, {
      executor: (deps.executor ?? ((c) => new WebSocketExecutor(c.access)))(s.client),
      startTimeoutMs: o.timeout,
      execTimeoutMs: perPod * (o.requestTimeout + 2000) + 30_000,
      caPem,
      keepPods: o.keepPods,
      signal: ac.signal,
      log,
    });
    const rep = compareLive(plan, outcomes);
    const findings = [...missing, ...rep.findings];
    if (o.output === 'json' || o.output === 'yaml') {
      const value = { runId, rows: rep.rows, notes: rep.notes, findings };
      process.stdout.write(o.output === 'yaml' ? emitYaml(value) : `${JSON.stringify(value, null, 2)}\n`);
    } else if (o.output === 'sarif') process.stdout.write(renderSarif(findings, verifyRuleDescriptors(), TOOL));
    else process.stdout.write(liveText(m, plan, rep, findings));
    return findings.length ? ExitCode.Differences : ExitCode.Ok;
  } catch (e) {
    if (e instanceof AbortedError) {
      log('interrupted: probe pods deleted');
      return ExitCode.Interrupted;
    }
    throw toUserError(e);
  } finally {
    process.off('SIGINT', onSigint);
    s.client.close();
  }
}
