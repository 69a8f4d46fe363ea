// `serverless-mesh report`: the HTML report's shell — read a spec, manifests or the cluster, run verify and check, write one file.
import { type Command, Option } from 'commander';
import { loadSpecFile } from '../api/load.ts';
import { modelFromObjects, specModelOptions, type Flavor, type KnativeModel, type ModelOptions } from '../authz/knative.ts';
import { buildContext } from '../check/context.ts';
import { enabledRules, runRules } from '../check/engine.ts';
import { RULES } from '../check/registry.ts';
import { ManifestSet } from '../check/source.ts';
import { readMeshConfigFile } from '../manifests/read.ts';
import { render } from '../render/index.ts';
import { SEVERITY_ORDER } from '../report/finding.ts';
import { renderHtmlReport } from '../report/html.ts';
import { UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import { writeFilesAtomic } from '../util/output.ts';
import { returnsCode } from './action.ts';
import { loadModel } from './authz-commands.ts';
import { coverageNotes, liveWithOverlay, neededKinds, readManifestSet, TOOL } from './check-commands.ts';
import { ExitCode } from './exit-codes.ts';
import { outputOption } from './output-format.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export interface ReportOptions {
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

export interface ReportInput {
  model: KnativeModel;
  objects: KubeObject[];
  set: ManifestSet;
  title: string;
  /** Kinds the cluster does not serve (--cluster). */
  absent: string[];
  /** With -f: what the spec adds to its render, so check's rules see the model verify sees. */
  modelOptions?: ModelOptions;
}

/** Reads what the options name (a spec, manifests, the cluster) into the model and the objects to check. */
export async function readReportInput(opts: ReportOptions, globals: { kubeconfig?: string; context?: string } = {}): Promise<ReportInput> {
  if (!opts.filename && !opts.manifests?.length && !opts.cluster)
    throw new UserError('give a spec (-f SPEC), manifests (-m PATH…) or --cluster', 2);
  if (opts.filename && (opts.manifests?.length || opts.cluster))
    throw new UserError('use either -f SPEC or -m PATH… / --cluster, not both', 2);
  const set = new ManifestSet();
  if (opts.filename) {
    const mesh = loadSpecFile(opts.filename);
    // No certificates: the report is meant to be mailed, it must not carry a private key.
    set.addObjects(render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } }), opts.filename);
    return {
      model: loadModel(opts),
      objects: set.objects,
      set,
      title: 'Rendered bundle (without generated certificates)',
      absent: [],
      modelOptions: specModelOptions(mesh),
    };
  }
  if (opts.manifests?.length) readManifestSet(opts.manifests, set);
  let objects = set.objects;
  let absent: string[] = [];
  if (opts.cluster) {
    // The kinds check reads (Secrets as metadata only): verify's inputs are among them.
    ({ objects, absent } = await liveWithOverlay(globals, neededKinds(RULES), set.objects));
  }
  if (objects.length === 0) throw new UserError('no Kubernetes objects in the input', 2);
  const model = modelFromObjects(objects, { flavor: opts.flavor, rootNamespace: opts.rootNamespace });
  if (opts.meshConfig)
    model.mesh = {
      ...readMeshConfigFile(opts.meshConfig, model.mesh),
      ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}),
    };
  return { model, objects, set, title: opts.cluster ? 'Objects read from the cluster' : 'Manifests analysed', absent };
}

/** check over the objects, then the report (`generated` left out: reproducible output, as the tests need). */
export function reportFor(opts: ReportOptions, input: ReportInput, generated?: string): ReturnType<typeof renderHtmlReport> {
  const ctx = buildContext(input.objects, {
    flavor: opts.flavor ?? (opts.filename ? input.model.flavor : undefined),
    ...(input.modelOptions ? { model: input.modelOptions } : {}),
  });
  const findings = runRules(RULES, ctx, { locate: input.set.locate });
  const notes = coverageNotes(RULES, enabledRules(RULES, ctx), input.absent);
  return renderHtmlReport({
    notes,
    model: input.model,
    source: sourceArgs(opts),
    findings,
    bundle: { title: input.title, objects: input.objects },
    tool: TOOL,
    generated,
  });
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
    // -o as in every command; one format. `-o report.html` gets the hint to use --output-file.
    .addOption(outputOption(['html'] as const, 'html', '--output-file'))
    .option('--output-file <file>', 'write the report here instead of stdout')
    .action(
      returnsCode(async (opts: ReportOptions, cmd: Command) => {
        const input = await readReportInput(opts, cmd.optsWithGlobals<{ kubeconfig?: string; context?: string }>());
        const res = reportFor(opts, input, new Date().toISOString());
        // As check: on stderr only for --cluster, where an absent kind is news; the report always lists them.
        if (opts.cluster) for (const n of res.notes) process.stderr.write(`report: note: ${n}\n`);
        if (opts.outputFile) writeFilesAtomic([{ path: opts.outputFile, body: res.html, mode: 0o644 }], '--output-file');
        else process.stdout.write(res.html);
        const errors = res.findings.some((f) => SEVERITY_ORDER[f.severity] === SEVERITY_ORDER.error);
        return errors || res.leaks + res.broken + res.blocked > 0 ? ExitCode.Differences : ExitCode.Ok;
      }),
    );
}
