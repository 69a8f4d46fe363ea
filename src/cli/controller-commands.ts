import { type Command, InvalidArgumentError } from 'commander';
import { toUserError } from '../cluster/ops.ts';
import { returnsCode } from './action.ts';
import { duration, positiveInt, type GlobalOpts } from './arg-parsers.ts';
import { ExitCode } from './exit-codes.ts';
import { outputOption } from './output-format.ts';
import { emitYaml } from '../render/yaml-emit.ts';

function listenAddr(v: string): string {
  if (!/^[^:]*:\d{1,5}$/.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) > 65535)
    throw new InvalidArgumentError(`expected HOST:PORT or :PORT, got "${v}"`);
  return v;
}

export function register(program: Command): void {
  const controller = program
    .command('controller')
    .description('run serverless-mesh as a controller keeping the cluster in the state of ServerlessMesh CRs')
    .addOption(outputOption(['yaml', 'json'] as const, 'yaml'));
  controller
    .command('manifests')
    .description(
      'the install bundle in apply order: CRD, ServiceAccount, least-privilege ClusterRole, bindings, Deployment, metrics Service',
    )
    .addOption(outputOption(['yaml', 'json'] as const, 'yaml'))
    .option('--namespace <ns>', 'namespace of the controller', 'serverless-mesh-system')
    .option('--image <ref>', 'controller image (see Containerfile)', 'quay.io/serverless-mesh/controller:0.1.0')
    .option('--replicas <n>', 'replicas (one leads, the others stand by)', positiveInt, 2)
    .action(
      returnsCode(async (opts: { output: 'yaml' | 'json'; namespace: string; image: string; replicas: number }) => {
        const { controllerManifests } = await import('../controller/manifests.ts');
        const objs = controllerManifests({ namespace: opts.namespace, image: opts.image, replicas: opts.replicas });
        process.stdout.write(
          opts.output === 'json'
            ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }, null, 2)}\n`
            : objs.map((o) => emitYaml(o)).join('---\n'),
        );
        return ExitCode.Ok;
      }),
    );
  controller
    .command('run')
    .description('reconcile ServerlessMesh CRs: apply, prune, readiness, verify, status; leader election with a Lease')
    .option('--no-leader-elect', 'do not take a Lease (one replica only)')
    .option('--lease-namespace <ns>', 'namespace of the leader-election Lease (default: $POD_NAMESPACE or "default")')
    .option('--lease-name <name>', 'name of the Lease', 'serverless-mesh-controller')
    .option('--lease-duration <duration>', 'how long the Lease holds without renewal (a standby takes over after it)', duration, 15_000)
    .option('--identity <id>', 'this replica in the Lease (default: hostname + random suffix)')
    .option('--listen <host:port>', '/healthz, /readyz and /metrics', listenAddr, ':8080')
    .option('--workers <n>', 'reconciles in parallel (different CRs)', positiveInt, 2)
    .option('--resync <duration>', 'reconcile every CR at least this often', duration, 5 * 60_000)
    .option('--event-namespace <ns>', 'namespace for Events about the cluster-scoped CRs (default: $POD_NAMESPACE or "default")')
    .action(
      returnsCode(
        async (
          opts: {
            leaderElect: boolean;
            leaseNamespace?: string;
            leaseName: string;
            leaseDuration: number;
            identity?: string;
            listen: string;
            workers: number;
            resync: number;
            eventNamespace?: string;
          },
          cmd: Command,
        ) => {
          const g = cmd.optsWithGlobals<GlobalOpts>();
          const { connect } = await import('../cluster/session.ts');
          const { runController } = await import('../controller/run.ts');
          const s = await connect({ kubeconfig: g.kubeconfig, context: g.context });
          const ns = process.env.POD_NAMESPACE || 'default';
          try {
            await runController(s, {
              leaderElect: opts.leaderElect,
              leaseNamespace: opts.leaseNamespace ?? ns,
              leaseName: opts.leaseName,
              leaseDurationS: Math.max(1, Math.round(opts.leaseDuration / 1000)),
              identity: opts.identity,
              listen: opts.listen,
              workers: opts.workers,
              resyncMs: opts.resync,
              eventNamespace: opts.eventNamespace ?? ns,
            });
          } catch (e) {
            throw toUserError(e);
          } finally {
            s.client.close();
          }
          return ExitCode.Ok;
        },
      ),
    );
}
