// `serverless-mesh report`: the HTML report's shell — read a spec, manifests or the cluster, run verify and check, write one file.
import { type Command, Option } from 'commander';
import { loadSpecFile } from '../api/load.ts';
import { modelFromObjects, type Flavor, type KnativeModel } from '../authz/knative.ts';
import { buildContext } from '../check/context.ts';
import { runRules } from '../check/engine.ts';
import { RULES } from '../check/registry.ts';
import { overlayObjects } from '../check/resource-index.ts';
import { ManifestSet } from '../check/source.ts';
import { connect } from '../cluster/session.ts';
import { readMeshConfigFile } from '../manifests/read.ts';
import { render } from '../render/index.ts';
import { SEVERITY_ORDER } from '../report/finding.ts';
import { renderHtmlReport } from '../report/html.ts';
import { UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { writeFilesAtomic } from '../util/output.ts';
import { returnsCode } from './action.ts';
import { loadModel } from './authz-commands.ts';
import { listCluster, neededKinds, readManifestSet, TOOL } from './check-commands.ts';
import { ExitCode } from './exit-codes.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface ReportOptions {
  filename?: string;
  manifests?: string[];
  cluster?: boolean;
  flavor?: Flavor;
  rootNamespace?: string;
  meshConfig?: string;
  outputFile?: string;
}

/** How the input was given, for the commands the report prints (`verify … --from … --to …`). */
function sourceArgs(o: ReportOptions): string {
  if (o.filename) return `-f ${o.filename}`;
  const parts = (o.manifests ?? []).map((m) => `-m ${m}`);
  if (o.cluster) parts.push('--cluster');
  return parts.join(' ');
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'one self-contained HTML report: summary, reachability matrix per path with hop-by-hop explanations, required edges, check findings, the bundle',
    )
    .option('-f, --filename <spec>', 'ServerlessMesh spec: report on what it renders (- for stdin)')
    .option('-m, --manifests <path>', 'manifest file or directory, `-` for stdin (repeatable)', collect)
    .option('--cluster', 'read the live cluster (read-only; with -m: as if the files were applied)')
    .addOption(new Option('--flavor <flavor>', 'mesh flavour for -m / --cluster (default: detected)').choices(['ossm2', 'ossm3', 'istio']))
    .option('--root-namespace <ns>', 'mesh root namespace (default: from the control plane)')
    .option('--mesh-config <file>', 'MeshConfig YAML overriding the one among the manifests (normalization, trust domain, providers)')
    .option('--output-file <file>', 'write the report here instead of stdout')
    .action(
      returnsCode(async (opts: ReportOptions, cmd: Command) => {
        if (!opts.filename && !opts.manifests?.length && !opts.cluster)
          throw new UserError('give a spec (-f SPEC), manifests (-m PATH…) or --cluster', 2);
        if (opts.filename && (opts.manifests?.length || opts.cluster))
          throw new UserError('use either -f SPEC or -m PATH… / --cluster, not both', 2);

        let model: KnativeModel;
        let objects: KubeObject[];
        const set = new ManifestSet();
        let title: string;
        if (opts.filename) {
          const mesh = loadSpecFile(opts.filename);
          // No certificates: the report is meant to be mailed, it must not carry a private key.
          set.addObjects(render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } }), opts.filename);
          objects = set.objects;
          model = loadModel(opts);
          title = 'Rendered bundle (without generated certificates)';
        } else {
          if (opts.manifests?.length) readManifestSet(opts.manifests, set);
          objects = set.objects;
          if (opts.cluster) {
            const g = cmd.optsWithGlobals<{ kubeconfig?: string; context?: string }>();
            const s = await connect({ kubeconfig: g.kubeconfig, context: g.context });
            try {
              // The kinds check reads, Secrets as metadata only: verify's inputs are among them.
              const live = await listCluster(s.client, s.discovery, neededKinds(RULES));
              objects = overlayObjects(live.objects, set.objects);
            } finally {
              s.client.close();
            }
          }
          if (objects.length === 0) throw new UserError('no Kubernetes objects in the input', 2);
          model = modelFromObjects(objects, { flavor: opts.flavor, rootNamespace: opts.rootNamespace });
          if (opts.meshConfig)
            model.mesh = {
              ...readMeshConfigFile(opts.meshConfig, model.mesh),
              ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}),
            };
          title = opts.cluster ? 'Objects read from the cluster' : 'Manifests analysed';
        }
        const ctx = buildContext(objects, { flavor: opts.flavor ?? (opts.filename ? model.flavor : undefined) });
        const findings = runRules(RULES, ctx, { locate: set.locate });
        const res = renderHtmlReport({
          model,
          source: sourceArgs(opts),
          findings,
          bundle: { title, objects },
          tool: TOOL,
          generated: new Date().toISOString(),
        });
        if (opts.outputFile) writeFilesAtomic([{ path: opts.outputFile, body: res.html, mode: 0o644 }], '--output-file');
        else process.stdout.write(res.html);
        const errors = res.findings.some((f) => SEVERITY_ORDER[f.severity] === SEVERITY_ORDER.error);
        return errors || res.leaks + res.broken + res.blocked > 0 ? ExitCode.Differences : ExitCode.Ok;
      }),
    );
}
