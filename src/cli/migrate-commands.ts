// `migrate`: OSSM 2 installation (files or live cluster, read-only) → ossm3 spec, bundle, plan, unmapped
// settings; with --apply, the plan executed step by step with the apply engine (resumable by re-running).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseSpec } from '../api/load.ts';
import type { ServerlessMesh } from '../api/types.ts';
import type { ClusterSession } from '../cluster/apply.ts';
import { readManifests } from '../manifests/read.ts';
import { migrationPlan, pendingOf, planMarkdown, type Live, type MigrationStep, type Query } from '../migrate/plan.ts';
import { NotOssm2Error, recoverSpec, type Recovered, type Unmapped } from '../migrate/recover.ts';
import { keyOf } from '../migrate/objects.ts';
import { render } from '../render/index.ts';
import { toYaml } from '../render/serialize.ts';
import { emitYaml } from '../render/yaml-emit.ts';
import { InputErrors, UserError } from '../util/errors.ts';
import { duration } from './arg-parsers.ts';
import { writeRenderDir } from './output-dir.ts';
import { outputOption } from './output-format.ts';
import type { KubeObject } from '../util/kube.ts';

// The cluster layer is loaded only when a cluster is used.
const cluster = async () => {
  const [apply, ops, plan, session, client] = await Promise.all([
    import('../cluster/apply.ts'),
    import('../cluster/ops.ts'),
    import('../cluster/plan.ts'),
    import('../cluster/session.ts'),
    import('../cluster/client.ts'),
  ]);
  return { ...apply, ...ops, ...plan, ...session, ...client };
};

interface GlobalOpts {
  kubeconfig?: string;
  context?: string;
}

interface MigrateOpts {
  manifests?: string[];
  cluster?: boolean;
  outputDir?: string;
  apply?: boolean;
  domain?: string;
  name?: string;
  deleteControlPlane?: boolean;
  forceConflicts?: boolean;
  waitTimeout?: number;
}

/** What `--cluster` reads of an OSSM 2 installation (read-only; kinds the cluster does not serve are skipped). */
const READ_KINDS: Array<{ apiVersion: string; kind: string; namespace?: (meshNs: string) => string[] }> = [
  { apiVersion: 'maistra.io/v2', kind: 'ServiceMeshControlPlane' },
  { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll' },
  { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMember' },
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'Gateway' },
  { apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry' },
  { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter' },
  { apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy' },
  { apiVersion: 'operator.knative.dev/v1beta1', kind: 'KnativeServing' },
  { apiVersion: 'operator.knative.dev/v1beta1', kind: 'KnativeEventing' },
  { apiVersion: 'operator.serverless.openshift.io/v1alpha1', kind: 'KnativeKafka' },
  { apiVersion: 'config.openshift.io/v1', kind: 'Ingress' },
  // Only to tell "already migrated" from "not OSSM 2".
  { apiVersion: 'sailoperator.io/v1', kind: 'Istio' },
];

export function register(program: Command): void {
  program
    .command('migrate')
    .description(
      'OSSM 2 installation → the equivalent ossm3 ServerlessMesh spec, its bundle and an ordered, resumable migration plan (--apply executes it)',
    )
    .option(
      '-m, --manifests <paths...>',
      'manifest files or directories of the OSSM 2 installation (SMCP, SMMR, Gateways, policies, Knative CRs, Namespaces)',
    )
    .option('--cluster', 'read the OSSM 2 installation from the cluster (read-only)')
    .option('--output-dir <dir>', 'write serverless-mesh.yaml, bundle/, plan.md and unmapped.yaml here instead of stdout')
    .addOption(outputOption(['yaml'] as const, 'yaml'))
    .option('--apply', 'execute the plan against the cluster, step by step; re-run the same command to resume')
    .option('--domain <domain>', 'cluster apps domain, when neither the objects nor the certificate say')
    .option('--name <name>', 'name of the new spec (default: the spec label of the old objects, else "default")')
    .option('--delete-control-plane', 'with --apply: delete the OSSM 2 ServiceMeshControlPlane in the last step (default: keep it running)')
    .option(
      '--force-conflicts',
      'with --apply: take over fields another field manager owns (e.g. Gateways and Knative CRs you created by hand)',
    )
    .option(
      '--wait-timeout <duration>',
      'with --apply: how long to wait for each control plane / Knative CR to be Ready (default 10m)',
      duration,
    )
    .action(async (opts: MigrateOpts, cmd: Command) => {
      if (!!opts.manifests === !!opts.cluster) throw new UserError('migrate: give exactly one of -m PATH… or --cluster', 2);
      const g = cmd.optsWithGlobals<GlobalOpts>();
      let s: ClusterSession | undefined;
      try {
        if (opts.cluster || opts.apply) {
          const c = await cluster();
          s = await c.connect({ kubeconfig: g.kubeconfig, context: g.context });
        }
        const current = opts.manifests ? readManifests(opts.manifests) : await readInstallation(s!);
        let rec: Recovered;
        try {
          rec = recover(current, opts);
        } catch (e) {
          // A finished migration (the old control plane deleted with --delete-control-plane) re-run: nothing to do.
          if (e instanceof NotOssm2Error && current.some((o) => o.kind === 'Istio' && o.apiVersion.startsWith('sailoperator.io/'))) {
            process.stderr.write(
              'migrate: no OSSM 2 control plane or member roll left and an OSSM 3 Istio control plane present: nothing to migrate\n',
            );
            return;
          }
          throw e;
        }
        const mesh = validated(rec.mesh);
        const tls = mesh.spec.tls.generate ? rec.tls : undefined;
        const steps = migrationPlan(current, mesh, { ...(tls ? { tls } : {}), deleteControlPlane: opts.deleteControlPlane });
        const bundle = render(mesh, tls ? { tls } : {});
        const live = s ? await readLive(s, steps) : undefined;
        writeOutputs(opts.outputDir, mesh, bundle, steps, rec.unmapped, live);
        if (opts.apply) {
          const blocking = rec.unmapped.filter((u) => u.blocking);
          if (blocking.length) {
            throw new UserError(`migrate: not applying: ${blocking.map((b) => `${b.path}: ${b.reason}`).join('; ')}`, 2);
          }
          await execute(s!, steps, mesh, opts);
        }
      } catch (e) {
        if (e instanceof NotOssm2Error) throw new UserError(`migrate: ${e.message}`, 2);
        throw (await cluster()).toUserError(e);
      } finally {
        s?.client.close();
      }
    });
}

/** recoverSpec, reading the domain from the certificate when nothing else gives it. */
function recover(current: KubeObject[], opts: MigrateOpts): Recovered {
  let rec = recoverSpec(current, { ...(opts.name ? { name: opts.name } : {}), ...(opts.domain ? { domain: opts.domain } : {}) });
  if (!rec.mesh.spec.domain && rec.tls) {
    const domain = domainFromCertificate(rec.tls.certPem);
    if (domain) rec = recoverSpec(current, { ...(opts.name ? { name: opts.name } : {}), domain });
  }
  return rec;
}

/** `*.apps.example.com` in the certificate's SANs (or CN) → `apps.example.com`; undefined when not a wildcard certificate. */
function domainFromCertificate(pem: string): string | undefined {
  // A DER SAN dNSName is a plain IA5String: the name appears verbatim in the bytes, no ASN.1 parser needed.
  // A certificate that does not decode just gives no domain.
  try {
    const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    const der = Buffer.from(b64, 'base64');
    // dNSName: context tag [2] (0x82), a short length, then the name.
    for (let k = 0; k + 3 < der.length; k++) {
      const len = der[k + 1]!;
      if (der[k] !== 0x82 || len >= 0x80 || der[k + 2] !== 0x2a || der[k + 3] !== 0x2e) continue;
      const name = der
        .subarray(k + 4, k + 2 + len)
        .toString('latin1')
        .toLowerCase();
      if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(name)) return name;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The recovered spec through the same loader a user's file goes through: defaults and every semantic rule. */
function validated(mesh: ServerlessMesh): ServerlessMesh {
  try {
    return parseSpec('migrated serverless-mesh.yaml', emitYaml(mesh));
  } catch (e) {
    if (e instanceof InputErrors) throw new InputErrors(e.lines.map((l) => `migrate: the recovered spec is invalid: ${l}`));
    throw e;
  }
}

function unmappedYaml(unmapped: readonly Unmapped[]): string {
  if (!unmapped.length) return '# no settings without an OSSM 3 equivalent\n[]\n';
  return `# Settings of the OSSM 2 installation the ossm3 spec does not carry over (blocking: --apply refuses).\n${emitYaml(unmapped)}`;
}

function writeOutputs(
  dir: string | undefined,
  mesh: ServerlessMesh,
  bundle: KubeObject[],
  steps: MigrationStep[],
  unmapped: Unmapped[],
  live: Live | undefined,
): void {
  const plan = planMarkdown(steps, live);
  if (!dir) {
    const comment = (t: string) =>
      t
        .split('\n')
        .map((l) => (l ? `# ${l}` : '#'))
        .join('\n');
    process.stdout.write(
      `${comment(unmappedYaml(unmapped).trimEnd())}\n${comment(plan.trimEnd())}\n---\n${emitYaml(mesh)}${toYaml(bundle)}`,
    );
    return;
  }
  mkdirSync(join(dir, 'bundle'), { recursive: true });
  writeFileSync(join(dir, 'serverless-mesh.yaml'), emitYaml(mesh));
  writeFileSync(join(dir, 'plan.md'), plan);
  writeFileSync(join(dir, 'unmapped.yaml'), unmappedYaml(unmapped));
  // The bundle directory is the render's exact image (stale files removed, Secret files 0600), as render --output-dir.
  writeRenderDir(join(dir, 'bundle'), bundle, 'yaml');
  process.stderr.write(
    `wrote serverless-mesh.yaml, plan.md (${steps.length} steps), unmapped.yaml (${unmapped.length} settings) and ${bundle.length} objects under ${dir}\n`,
  );
}

/** The OSSM 2 installation as the objects recoverSpec reads, listed from the cluster. */
async function readInstallation(s: ClusterSession): Promise<KubeObject[]> {
  const c = await cluster();
  const out = new Map<string, KubeObject>();
  const add = (o: KubeObject) => out.set(keyOf(o), o);
  await c.mapLimit(READ_KINDS, 8, async (k) => {
    const info = await s.discovery.resolve(k.apiVersion, k.kind);
    if (info) for (const o of await c.listAll(s.client, info)) add(o);
  });
  // Objects of an earlier `serverless-mesh apply` (the old TLS Secret, the local-gateway Service…), and the few that are read by name.
  await c.mapLimit(c.PRUNABLE_KINDS, 8, async (k) => {
    const info = await s.discovery.resolve(k.apiVersion, k.kind);
    if (info) for (const o of await c.listAll(s.client, info, `${c.MANAGED_BY}=${c.FIELD_MANAGER}`)) add(o);
  });
  const smcp = [...out.values()].find((o) => o.kind === 'ServiceMeshControlPlane');
  const meshNs =
    smcp?.metadata.namespace ?? [...out.values()].find((o) => o.kind === 'ServiceMeshMemberRoll')?.metadata.namespace ?? 'istio-system';
  const np = await s.discovery.resolve('networking.k8s.io/v1', 'NetworkPolicy');
  const gw = [...out.values()].find(
    (o) => o.kind === 'Gateway' && o.metadata.namespace === 'knative-serving' && o.metadata.name === 'knative-ingress-gateway',
  );
  const secretName =
    ((gw?.spec as { servers?: { tls?: { credentialName?: string } }[] } | undefined)?.servers ?? [])
      .map((x) => x.tls?.credentialName)
      .find(Boolean) ?? 'wildcard-certs';
  const secretInfo = await s.discovery.resolve('v1', 'Secret');
  for (const ns of [meshNs, 'knative-serving-ingress']) {
    const sec = secretInfo && (await c.getObject(s.client, secretInfo, ns, secretName));
    if (sec) add({ ...sec, apiVersion: 'v1', kind: 'Secret' });
  }
  const mon = np && (await c.getObject(s.client, np, 'knative-serving', 'allow-from-openshift-monitoring-ns'));
  if (mon) add({ ...mon, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' });
  return [...out.values()];
}

/** Reads what the steps look at: each object by identity, each query as a list. */
async function readLive(s: ClusterSession, steps: readonly MigrationStep[]): Promise<Live> {
  const c = await cluster();
  const byKey = new Map<string, KubeObject>();
  const lists = new Map<string, KubeObject[]>();
  const qKey = (q: Query) => `${q.apiVersion}/${q.kind}/${q.namespace ?? ''}/${q.labelSelector ?? ''}`;
  const objects = new Map<string, KubeObject>();
  const queries = new Map<string, Query>();
  for (const st of steps) {
    for (const o of [...st.apply, ...st.waitReady, ...st.readObjects]) objects.set(keyOf(o), o);
    for (const q of st.reads) queries.set(qKey(q), q);
  }
  await c.mapLimit([...objects.values()], 16, async (o) => {
    const info = await s.discovery.resolve(o.apiVersion, o.kind);
    const l = info && (await c.getObject(s.client, info, o.metadata.namespace, o.metadata.name));
    if (l) byKey.set(keyOf(o), { ...l, apiVersion: o.apiVersion, kind: o.kind });
  });
  await c.mapLimit([...queries.values()], 8, async (q) => {
    const info = await s.discovery.resolve(q.apiVersion, q.kind);
    const items = info ? await c.listAll(s.client, info, q.labelSelector) : [];
    lists.set(qKey(q), q.namespace ? items.filter((i) => i.metadata.namespace === q.namespace) : items);
  });
  return { get: (o) => byKey.get(keyOf(o)), list: (q) => lists.get(qKey(q)) ?? [] };
}

/** Runs the steps in order; a step already done is skipped; the first failure stops the run with how to resume. */
async function execute(s: ClusterSession, steps: MigrationStep[], mesh: ServerlessMesh, opts: MigrateOpts): Promise<void> {
  const c = await cluster();
  const n = steps.length;
  let ran = 0;
  for (const [i, step] of steps.entries()) {
    const tag = `[${i + 1}/${n}] ${step.title}`;
    const t0 = Date.now();
    try {
      let live = await readLive(s, [step]);
      if (pendingOf(step, live).length === 0) {
        process.stderr.write(`${tag}: already done\n`);
        continue;
      }
      const done: string[] = [];
      if (step.apply.length) {
        const out = c.emptyOutcome();
        const { steps: inner, finish } = c.applySteps(
          s,
          step.apply,
          {
            specName: mesh.metadata.name,
            force: opts.forceConflicts,
            wait: step.waitReady.length > 0,
            waitTimeoutMs: opts.waitTimeout,
            prune: false,
            allowMeshMove: true,
          },
          out,
        );
        try {
          for (const st of inner) if (!st.skip?.()) await st.run(() => {});
        } catch (e) {
          finish();
          const first = out.failed[0]?.error ?? (e instanceof Error ? e.message : String(e));
          throw new UserError(first, e instanceof UserError ? e.kind : 'cluster');
        }
        finish();
        done.push(`${out.applied.length} applied, ${out.unchanged.length} unchanged`);
        live = await readLive(s, [step]);
      }
      const actions = step.actions(live);
      for (const a of actions) {
        const info = await s.discovery.resolve(a.target.apiVersion, a.target.kind);
        if (!info) continue;
        try {
          if (a.type === 'delete') await c.deleteObject(s.client, info, a.target.metadata.namespace, a.target.metadata.name);
          else
            await s.client.request('PATCH', c.resourcePath(info, a.target.metadata.namespace, a.target.metadata.name), {
              body: a.patch,
              contentType: 'application/merge-patch+json',
            });
        } catch (e) {
          if (e instanceof c.ApiError && e.code === 404) continue; // already gone: what the step wanted
          throw new UserError(c.describeError(e, a.type === 'delete' ? 'delete' : 'patch', info, a.target), 1);
        }
      }
      if (actions.length) {
        const deleted = actions.filter((a) => a.type === 'delete').length;
        done.push(`${deleted} deleted, ${actions.length - deleted} patched`);
      }
      const left = pendingOf(step, await readLive(s, [step]));
      // Deletions with finalizers may take a moment; anything else left means the step did not take.
      if (left.length && !left.every((l) => l.startsWith('delete ')))
        throw new UserError(`did not converge: ${left.slice(0, 5).join(', ')}`, 1);
      ran++;
      process.stderr.write(`${tag}: ${done.join('; ') || 'done'} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    } catch (e) {
      const err = c.toUserError(e);
      process.stderr.write(`${tag}: failed\n`);
      const msg = err.message.split('\n')[0];
      throw new UserError(
        `migrate stopped at step ${i + 1}/${n} (${step.id}): ${msg}; fix the cause and re-run the same command to resume (steps already done are skipped)`,
        err instanceof UserError ? err.kind : 'cluster',
      );
    }
  }
  process.stderr.write(`migrate: ${ran} step(s) run, ${n - ran} already done; the cluster runs spec "${mesh.metadata.name}" on OSSM 3\n`);
}
