import { type Command, Option } from 'commander';
import { checkRequest } from '../authz/evaluate.ts';
import { modelFromObjects, specModelOptions, VIAS, type Flavor, type KnativeModel, type Via } from '../authz/knative.ts';
import { meshConfigFromObjects, meshOptionsFromMeshConfig, parseRequest, securityConfigFrom } from '../authz/parse.ts';
import { readManifests, readMeshConfigFile } from '../manifests/read.ts';
import { DEFAULT_MESH } from '../authz/types.ts';
import { explain, verifyModel } from '../verify/index.ts';
import { verifyRuleDescriptors } from '../verify/findings.ts';
import { renderSarif, renderText } from '../report/render.ts';
import { TOOL } from './check-commands.ts';
import { render } from '../render/index.ts';
import { loadSpecFile } from '../api/load.ts';
import { UserError } from '../util/errors.ts';
import { emitYaml } from '../render/yaml-emit.ts';
import { ExitCode } from './exit-codes.ts';
import { outputOption as formatOption } from './output-format.ts';
import { returnsCode } from './action.ts';
import { duration, positiveInt, type GlobalOpts } from './arg-parsers.ts';
import { DEFAULT_PROBE_IMAGE } from '../verify/live-plan.ts';

type Format = 'text' | 'json' | 'yaml' | 'sarif';
const collect = (v: string, prev: string[] = []) => [...prev, v];
const outputOption = (sarif = false) =>
  formatOption(sarif ? (['text', 'json', 'yaml', 'sarif'] as const) : (['text', 'json', 'yaml'] as const), 'text');

/** json or yaml of a result value. */
function data(format: Format, value: unknown): string {
  return format === 'yaml' ? emitYaml(value) : `${JSON.stringify(value, null, 2)}\n`;
}

/** The model `verify` (and `report`) reads from -f or -m. */
export function loadModel(opts: {
  filename?: string;
  manifests?: string[];
  flavor?: Flavor;
  rootNamespace?: string;
  meshConfig?: string;
}): KnativeModel {
  const m = loadModelFrom(opts);
  // --mesh-config overrides what the manifests say (root namespace: --root-namespace wins).
  if (opts.meshConfig)
    m.mesh = { ...readMeshConfigFile(opts.meshConfig, m.mesh), ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}) };
  return m;
}

function loadModelFrom(opts: { filename?: string; manifests?: string[]; flavor?: Flavor; rootNamespace?: string }): KnativeModel {
  if (opts.filename && opts.manifests?.length) throw new UserError('use either -f SPEC or -m PATH…, not both', 2);
  if (opts.filename) {
    const mesh = loadSpecFile(opts.filename);
    // Only the policies matter here: skip certificate generation.
    const objects = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } });
    return modelFromObjects(objects, { ...specModelOptions(mesh), ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}) });
  }
  if (!opts.manifests?.length) throw new UserError('give a spec (-f SPEC) or manifests (-m PATH…)', 2);
  return modelFromObjects(readManifests(opts.manifests, { requireObjects: true }), {
    flavor: opts.flavor,
    rootNamespace: opts.rootNamespace,
  });
}

export function register(program: Command): void {
  program
    .command('authz')
    .description(
      'decide one request at one workload from AuthorizationPolicy / PeerAuthentication / DestinationRule manifests (offline `istioctl x authz check`)',
    )
    .requiredOption('-m, --manifests <file>', 'manifest file or directory (repeatable; - for stdin)', collect)
    .requiredOption('--request <json>', 'request JSON: {"source":{…},"destination":{…},"method","path","host","headers"}')
    .option('--root-namespace <ns>', `mesh root namespace (default: from the mesh config, else ${DEFAULT_MESH.rootNamespace})`)
    .option('--mesh-config <file>', 'MeshConfig YAML (or the istio ConfigMap / Istio CR / SMCP); default: found among the manifests')
    .addOption(outputOption())
    .action((opts: { manifests: string[]; request: string; rootNamespace?: string; meshConfig?: string; output: Format }) => {
      const request = parseRequest(opts.request);
      const objects = readManifests(opts.manifests);
      const config = securityConfigFrom(objects);
      const found = meshConfigFromObjects(objects);
      let mesh = found ? meshOptionsFromMeshConfig(found) : DEFAULT_MESH;
      if (opts.meshConfig) mesh = readMeshConfigFile(opts.meshConfig, mesh);
      if (opts.rootNamespace) mesh = { ...mesh, rootNamespace: opts.rootNamespace };
      const res = checkRequest(request, config, mesh);
      if (opts.output === 'json') process.stdout.write(`${JSON.stringify(res)}\n`);
      else if (opts.output === 'yaml') process.stdout.write(data('yaml', res));
      else {
        process.stdout.write(
          `${res.decision}${res.policy ? ` by ${res.policy}${res.rule !== null ? ` rules[${res.rule}]` : ''}` : ''}: ${res.reason}\n`,
        );
        for (const s of res.shadow ?? [])
          process.stdout.write(`dry-run ${s.action}: shadow ${s.result}${s.policy ? ` by ${s.policy} rules[${s.rule}]` : ''}\n`);
      }
    });

  program
    .command('verify')
    .description('who can reach which Knative Service, on every path (direct, activator, local gateway, external, no sidecar)')
    .option('-f, --filename <spec>', 'ServerlessMesh spec file (- for stdin)')
    .option('-m, --manifests <path>', 'manifest file or directory (repeatable; - for stdin)', collect)
    .addOption(new Option('--flavor <flavor>', 'mesh flavour for -m (default: detected)').choices(['ossm2', 'ossm3', 'istio']))
    .option('--root-namespace <ns>', 'mesh root namespace (default: from the control plane)')
    .option('--mesh-config <file>', 'MeshConfig YAML overriding the one among the manifests (normalization, trust domain, providers)')
    .option('--from <ns>', 'explain one source namespace…')
    .option('--to <ns/ksvc>', '…to one Knative Service, hop by hop')
    .addOption(new Option('--via <path>', 'only this path').choices([...VIAS]))
    .option(
      '--live',
      'probe a real cluster: a curl pod per source namespace, a request per Knative Service and path, compared with the prediction',
    )
    .option('--probe-image <image>', `--live: probe image with sh and curl (default ${DEFAULT_PROBE_IMAGE})`)
    .option('--ca-file <pem>', '--live: root CA of the external certificate (default: external requests use curl --insecure)')
    .addOption(
      new Option('--timeout <duration>', '--live: how long the probe pods may take to start').argParser(duration).default(120_000, '2m'),
    )
    .addOption(new Option('--request-timeout <duration>', '--live: deadline of each request').argParser(duration).default(10_000, '10s'))
    .option('--run-as-user <uid>', '--live: probe pod runAsUser (plain Kubernetes; OpenShift assigns one)', positiveInt)
    .option('--keep-pods', '--live: keep the probe pods for debugging (delete them with the printed label selector)')
    .addOption(outputOption(true))
    .action(
      returnsCode(
        async (
          opts: {
            filename?: string;
            manifests?: string[];
            flavor?: Flavor;
            rootNamespace?: string;
            meshConfig?: string;
            from?: string;
            to?: string;
            via?: Via;
            output: Format;
            live?: boolean;
            probeImage?: string;
            caFile?: string;
            timeout: number;
            requestTimeout: number;
            runAsUser?: number;
            keepPods?: boolean;
          },
          cmd: Command,
        ): Promise<ExitCode> => {
          const m = loadModel(opts);
          if (opts.live) {
            if (opts.from || opts.to) throw new UserError('--live probes the whole matrix: drop --from/--to', 2);
            const { verifyLive } = await import('./verify-live.ts');
            return verifyLive(m, { ...opts, output: opts.output === 'yaml' ? 'yaml' : opts.output }, cmd.optsWithGlobals<GlobalOpts>());
          }
          if (opts.from || opts.to) {
            if (!opts.from || !opts.to) throw new UserError('--from and --to go together', 2);
            const k = m.ksvcs.find(
              (x) => `${x.namespace}/${x.name}` === opts.to || (x.representative && x.namespace === opts.to!.split('/')[0]),
            );
            if (!k)
              throw new UserError(
                `--to ${opts.to}: no such Knative Service (known: ${m.ksvcs.map((x) => `${x.namespace}/${x.name}`).join(', ') || 'none'})`,
                2,
              );
            const res = explain(m, opts.from, k, opts.via ? [opts.via] : VIAS);
            if (opts.output === 'sarif') throw new UserError('-o sarif prints findings of the whole matrix: drop --from/--to', 2);
            if (opts.output === 'json' || opts.output === 'yaml') process.stdout.write(data(opts.output, res));
            else process.stdout.write(explainText(opts.from, `${k.namespace}/${k.name}`, res));
            return ExitCode.Ok;
          }
          const rep = verifyModel(m);
          const vias = opts.via ? [opts.via] : VIAS;
          const paths = rep.paths.filter((p) => vias.includes(p.via));
          const result = {
            paths,
            requiredEdges: rep.requiredEdges,
            eventing: rep.eventing,
            expectations: rep.expectations,
            findings: rep.findings,
          };
          if (opts.output === 'json' || opts.output === 'yaml') process.stdout.write(data(opts.output, result));
          else if (opts.output === 'sarif') process.stdout.write(renderSarif(rep.findings, verifyRuleDescriptors(), TOOL));
          else process.stdout.write(verifyText(m, paths, rep));
          return rep.violations > 0 ? ExitCode.Differences : ExitCode.Ok;
        },
      ),
    );
}

function verifyText(m: KnativeModel, paths: ReturnType<typeof verifyModel>['paths'], rep: ReturnType<typeof verifyModel>): string {
  const lines: string[] = [
    `mesh ${m.flavor}, root namespace ${m.mesh.rootNamespace}: ${m.sources.length} source namespaces × ${m.ksvcs.length} Knative Services`,
  ];
  const targets = m.ksvcs.map((k) => `${k.namespace}/${k.name}`);
  const w = Math.max(4, ...m.sources.map((s) => s.length));
  for (const via of VIAS) {
    const rows = paths.filter((p) => p.via === via);
    if (rows.length === 0) continue;
    lines.push('', `via ${via}  (Y allowed, . refused; columns: ${targets.map((t, i) => `${i + 1}=${t}`).join(' ')})`);
    lines.push(`${'from'.padEnd(w)}  ${targets.map((_, i) => String(i + 1).padStart(2)).join(' ')}`);
    for (const s of m.sources) {
      const cells = targets.map((t) => {
        const r = rows.find((x) => x.from === s && x.to === t);
        return (r ? (r.allowed ? 'Y' : '.') : ' ').padStart(2);
      });
      lines.push(`${s.padEnd(w)}  ${cells.join(' ')}`);
    }
  }
  if (rep.eventing.length) {
    const bad = rep.eventing.filter((e) => (e.expected === 'deny' && e.allowed) || (e.expected === 'allow' && !e.allowed));
    lines.push(
      '',
      `eventing paths (broker ingress, spoofed Kn-Namespace, channel, sinks, event delivery): ${rep.eventing.length - bad.length}/${rep.eventing.length} as expected`,
    );
  }
  if (rep.expectations.length) {
    const units = new Map<string, string[]>();
    for (const e of rep.expectations) units.set(`${e.kind} ${e.unit}`, [...(units.get(`${e.kind} ${e.unit}`) ?? []), e.namespace]);
    lines.push(
      '',
      `expected: in-mesh paths stay inside each unit — ${[...units].map(([u, nss]) => `${u} (${nss.join(', ')})`).join('; ')}`,
    );
  }
  const blocked = rep.requiredEdges.filter((e) => !e.allowed);
  lines.push('', `required edges: ${rep.requiredEdges.length - blocked.length}/${rep.requiredEdges.length} allowed`);
  // The surprises are findings: the same rendering as `check` (grouped by resource, code, fix).
  if (rep.findings.length === 0) lines.push('', 'no surprises: tenants are isolated on in-mesh paths and every required edge is allowed');
  else lines.push('', renderText(rep.findings, { colour: process.stdout.isTTY === true }).trimEnd());
  return `${lines.join('\n')}\n`;
}

function explainText(from: string, to: string, res: ReturnType<typeof explain>): string {
  const lines: string[] = [];
  for (const p of res) {
    lines.push(`${from} → ${to} via ${p.via}${p.expectation ? ` (expected: ${p.expectation})` : ''}`);
    for (const v of p.variants) {
      if (p.variants.length > 1)
        lines.push(`  activator ${v.variant === 'serve' ? 'out of path' : 'in path'}: ${v.allowed ? 'ALLOWED' : 'REFUSED'}`);
      else lines.push(`  ${v.allowed ? 'ALLOWED' : 'REFUSED'}`);
      v.hops.forEach((h, i) =>
        lines.push(
          `    ${i + 1}. ${h.hop}: ${h.decision}${h.policy ? ` by ${h.policy}${h.rule !== null ? ` rules[${h.rule}]` : ''}` : ''} — ${h.reason}`,
        ),
      );
      for (const s of v.skipped) lines.push(`    -  ${s}: not reached`);
    }
  }
  return `${lines.join('\n')}\n`;
}
