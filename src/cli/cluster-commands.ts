import { type Command, Option } from 'commander';
import { applySteps, deleteSteps, emptyOutcome, failure, summarize, type ClusterSession } from '../cluster/apply.ts';
import { diffSpec } from '../cluster/diff-run.ts';
import { clusterRequirements } from '../cluster/plan.ts';
import { runSteps } from '../cluster/progress.ts';
import { toUserError } from '../cluster/ops.ts';
// The cluster layer (HTTP client, kubeconfig, certificate generation) is imported when a cluster
// command runs, so offline commands (render, verify, …) do not load it.
const session = () => import('../cluster/session.ts');
import { render } from '../render/index.ts';
import { loadSpecFile } from '../api/load.ts';
import type { ServerlessMesh } from '../api/types.ts';
import { ClusterError, UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { emitYaml } from '../render/yaml-emit.ts';
import { ExitCode } from './exit-codes.ts';
import { returnsCode } from './action.ts';
import { duration, positiveInt, type GlobalOpts } from './arg-parsers.ts';
import { outputOption } from './output-format.ts';

type Format = 'text' | 'json' | 'yaml';
const formatOutput = () => outputOption(['text', 'json', 'yaml'] as const, 'text');

/** -o json|yaml: a machine-readable result on stdout (text: the summary on stderr only). */
function printResult(format: Format, value: Record<string, unknown>): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (format === 'yaml') process.stdout.write(emitYaml(value));
}

/** Prints the run's summary once; the error that ends the run is not printed again when the summary shows it. */
function report(summary: string, err: UserError | undefined): void {
  process.stderr.write(`${summary}\n`);
  if (err) {
    err.reported = summary.includes(err.message);
    throw err;
  }
}

// delete needs object identities only; render wants TLS material when tls.generate is set.
const TLS_PLACEHOLDER = { certPem: '', keyPem: '' };

async function withSession<T>(cmd: Command, fn: (s: ClusterSession) => Promise<T>): Promise<T> {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const s = await (await session()).connect({ kubeconfig: g.kubeconfig, context: g.context });
  try {
    return await fn(s);
  } catch (e) {
    throw toUserError(e);
  } finally {
    s.client.close();
  }
}

async function renderFor(s: ClusterSession, mesh: ServerlessMesh): Promise<KubeObject[]> {
  const tls = await (await session()).tlsForApply(s, mesh);
  return render(mesh, tls ? { tls } : {});
}

export function register(program: Command): void {
  program
    .command('apply')
    .description('server-side apply everything the spec renders, in order, then prune what it no longer renders')
    .requiredOption('-f, --filename <spec>', 'ServerlessMesh spec file (- for stdin)')
    .addOption(formatOutput())
    .addOption(
      new Option('--dry-run <mode>', 'only "server": the apiserver validates and admits, nothing is stored').choices(['server', 'none']),
    )
    .option('--force-conflicts', 'take over fields another field manager owns')
    .option(
      '--wait [timeout]',
      'also wait for the control plane and Knative CRs to be Ready (default timeout 10m); KnativeServing is always waited for before AuthorizationPolicies, with this timeout',
    )
    .option('--no-prune', 'keep objects of this spec that it no longer renders')
    .addOption(new Option('--concurrency <n>', 'parallel requests within a step').argParser(positiveInt).default(32))
    .action(
      async (
        opts: {
          filename: string;
          output: Format;
          dryRun?: string;
          forceConflicts?: boolean;
          wait?: boolean | string;
          prune: boolean;
          concurrency: number;
        },
        cmd: Command,
      ) => {
        const mesh = loadSpecFile(opts.filename);
        const dryRun = opts.dryRun === 'server';
        const waitTimeoutMs = typeof opts.wait === 'string' ? duration(opts.wait) : undefined;
        await withSession(cmd, async (s) => {
          const objects = await renderFor(s, mesh);
          const out = emptyOutcome();
          const { steps, finish } = applySteps(
            s,
            objects,
            {
              specName: mesh.metadata.name,
              dryRun,
              force: opts.forceConflicts,
              wait: !!opts.wait,
              waitTimeoutMs,
              prune: opts.prune,
              concurrency: opts.concurrency,
              requirements: clusterRequirements(mesh.spec),
            },
            out,
          );
          let thrown: Error | undefined;
          try {
            await runSteps(steps);
          } catch (e) {
            thrown = toUserError(e);
          } finally {
            finish();
          }
          if (thrown instanceof UserError) out.aborted ??= thrown.message;
          else if (thrown) throw thrown;
          printResult(opts.output, { ...out, dryRun });
          const err = failure(out);
          report(summarize(out, dryRun), err ? (thrown instanceof UserError ? thrown : err) : undefined);
        });
      },
    );

  program
    .command('diff')
    .description(
      'show what apply would change (server-side dry run vs live, unified diff); exit 1 when anything differs, 3 when the cluster cannot be compared',
    )
    .requiredOption('-f, --filename <spec>', 'ServerlessMesh spec file (- for stdin)')
    .addOption(formatOutput())
    .option('--force-conflicts', 'diff as if apply took over conflicting fields')
    .action(
      returnsCode(async (opts: { filename: string; output: Format; forceConflicts?: boolean }, cmd: Command) => {
        const mesh = loadSpecFile(opts.filename);
        return withSession(cmd, async (s) => {
          const objects = await renderFor(s, mesh);
          const res = await diffSpec(s, objects, { specName: mesh.metadata.name, force: opts.forceConflicts });
          if (opts.output === 'text') for (const d of res.diffs) process.stdout.write(d.endsWith('\n') ? d : `${d}\n`);
          else printResult(opts.output, { diffs: res.diffs, errors: res.errors });
          // kubectl diff convention: 0 same, 1 different, >1 error.
          if (res.errors.length) throw new ClusterError(res.errors.join('\n'));
          return res.diffs.length ? ExitCode.Differences : ExitCode.Ok;
        });
      }),
    );

  program
    .command('delete')
    .description("delete every object carrying this spec's labels (namespaces are released unless --delete-namespaces)")
    .requiredOption('-f, --filename <spec>', 'ServerlessMesh spec file (- for stdin)')
    .addOption(formatOutput())
    .option('--delete-namespaces', 'delete labelled namespaces too (with everything in them)')
    .action(async (opts: { filename: string; output: Format; deleteNamespaces?: boolean }, cmd: Command) => {
      const mesh = loadSpecFile(opts.filename);
      await withSession(cmd, async (s) => {
        // Only identities matter here; no certificate is generated or read.
        const objects = render(mesh, mesh.spec.tls.generate ? { tls: TLS_PLACEHOLDER } : {});
        const out = emptyOutcome();
        let thrown: Error | undefined;
        try {
          await runSteps(deleteSteps(s, objects, { specName: mesh.metadata.name, deleteNamespaces: opts.deleteNamespaces }, out));
        } catch (e) {
          thrown = toUserError(e);
        }
        if (thrown && !(thrown instanceof UserError)) throw thrown;
        printResult(opts.output, { ...out });
        report(summarize(out), thrown ?? failure(out));
      });
    });
}
