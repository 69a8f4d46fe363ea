// `serverless-mesh check`: the analyzer's shell — read files / a spec / the cluster, run the rules, print.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { loadSpecFile } from '../api/load.ts';
import type { MeshFlavor } from '../api/types.ts';
import { specModelOptions, type ModelOptions } from '../authz/knative.ts';
import { buildContext } from '../check/context.ts';
import { enabledRules, runRules } from '../check/engine.ts';
import { descriptors, RULES } from '../check/registry.ts';
import { overlayObjects } from '../check/resource-index.ts';
import { ManifestSet } from '../check/source.ts';
import type { Rule } from '../check/types.ts';
import { ApiError, type KubeClient } from '../cluster/client.ts';
import type { Discovery } from '../cluster/discovery.ts';
import { resourcePath } from '../cluster/ops.ts';
import { connect } from '../cluster/session.ts';
import { CrdSchemas } from '../crd/schema-validation.ts';
import { render } from '../render/index.ts';
import { emitYaml } from '../render/yaml-emit.ts';
import { SEVERITY_ORDER, type Finding, type Severity } from '../report/finding.ts';
import { renderJson, renderSarif, renderText } from '../report/render.ts';
import { InputErrors, UserError } from '../util/errors.ts';
import { returnsCode } from './action.ts';
import { ExitCode } from './exit-codes.ts';
import { outputOption } from './output-format.ts';
import type { KubeObject } from '../util/kube.ts';

export const TOOL = { name: 'serverless-mesh', version: '0.1.0', informationUri: 'https://github.com/serverless-mesh/serverless-mesh' };

/** Metadata only: the apiserver answers a list of Secrets without `data` (PartialObjectMetadataList). */
export const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_ONLY = new Set(['Secret']);

const collect = (v: string, prev: string[] = []) => [...prev, v];
const splitList = (v: string[] | undefined) =>
  (v ?? [])
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);

function expand(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      // reported when read
    }
    if (!dir) out.push(p);
    else
      out.push(
        ...expand(
          readdirSync(p)
            .sort()
            .map((e) => join(p, e))
            .filter((f) => /\.(ya?ml|json)$/.test(f) || statSync(f).isDirectory()),
        ),
      );
  }
  return out;
}

/** Reads `-m` paths (files, directories, `-` for stdin) into a located manifest set; exit 2 on unreadable or unparseable input. */
export function readManifestSet(paths: readonly string[], set = new ManifestSet()): ManifestSet {
  for (const f of expand(paths)) {
    let text: string;
    try {
      text = f === '-' ? readFileSync(0, 'utf8') : readFileSync(f, 'utf8');
    } catch (e) {
      throw new UserError(`${f}: cannot read: ${(e as Error).message}`, 2);
    }
    set.add(f === '-' ? '<stdin>' : f, text);
  }
  if (set.errors.length) throw new InputErrors(set.errors);
  return set;
}

/** `Kind.group` → group and kind. */
function splitKindKey(k: string): { group: string; kind: string } {
  const dot = k.indexOf('.');
  return dot < 0 ? { group: '', kind: k } : { group: k.slice(dot + 1), kind: k.slice(0, dot) };
}

/** Kinds the enabled rules read (the union of their inputs). */
export function neededKinds(rules: readonly Rule[]): string[] {
  return [...new Set(rules.flatMap((r) => r.meta.inputs).filter((k) => k !== '*'))].sort();
}

/**
 * Read-only: one paginated list per kind (Secrets as metadata only). A kind whose API group or
 * resource the cluster does not serve is skipped: that flavour is absent, not an error.
 */
export async function listCluster(
  client: KubeClient,
  discovery: Discovery,
  kinds: readonly string[],
): Promise<{ objects: KubeObject[]; absent: string[] }> {
  const groups = await discovery.apiGroups();
  const absent: string[] = [];
  const lists = await Promise.all(
    kinds.map(async (k) => {
      const { group, kind } = splitKindKey(k);
      const versions = groups.get(group) ?? [];
      let info;
      for (const v of versions) if ((info = await discovery.resolve(group ? `${group}/${v}` : v, kind))) break;
      if (!info) {
        absent.push(k);
        return [];
      }
      const apiVersion = group ? `${group}/${info.version}` : info.version;
      const out: KubeObject[] = [];
      let cont: string | undefined;
      do {
        let page: { items: KubeObject[] | null; metadata?: { continue?: string } };
        try {
          page = await client.request('GET', resourcePath(info), {
            query: { limit: 500, continue: cont },
            accept: METADATA_ONLY.has(k) ? METADATA_ACCEPT : undefined,
          });
        } catch (e) {
          if (e instanceof ApiError && e.code === 404) break; // CRD removed between discovery and list
          throw e;
        }
        // `items` is null in an empty PartialObjectMetadataList (seen on a cluster with no such objects).
        for (const it of page.items ?? []) out.push({ ...(METADATA_ONLY.has(k) ? { metadata: it.metadata } : it), apiVersion, kind });
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return out;
    }),
  );
  return { objects: lists.flat(), absent: absent.sort() };
}

/** The live objects of these kinds with `overlay` applied on them (istioctl analyze's "simulate applying"). */
export async function liveWithOverlay(
  g: { kubeconfig?: string; context?: string },
  kinds: readonly string[],
  overlay: readonly KubeObject[],
): Promise<{ objects: KubeObject[]; absent: string[] }> {
  const s = await connect({ kubeconfig: g.kubeconfig, context: g.context });
  try {
    const live = await listCluster(s.client, s.discovery, kinds);
    return { objects: overlayObjects(live.objects, overlay), absent: live.absent };
  } finally {
    s.client.close();
  }
}

interface CheckOptions {
  filename?: string;
  manifests?: string[];
  cluster?: boolean;
  flavor?: MeshFlavor;
  crds?: string[];
  rule?: string[];
  skip?: string[];
  severity: Severity;
  output: 'text' | 'json' | 'yaml' | 'sarif';
  listRules?: boolean;
}

export function register(program: Command): void {
  program
    .command('check')
    .description(
      "find the documented pitfalls of Knative in the mesh, in manifests, a spec's render or a live cluster (stable SM codes; docs/rules.md)",
    )
    .option('-f, --filename <spec>', 'ServerlessMesh spec: check what it renders')
    .option(
      '-m, --manifests <path>',
      'manifest file or directory, `-` for stdin (repeatable; multi-document YAML/JSON, List kinds)',
      collect,
    )
    .option('--cluster', 'read the live cluster (read-only; with -m: as if the files were applied)')
    .addOption(
      new Option('--flavor <flavor>', 'mesh flavour (default: read from the control-plane objects)').choices(['ossm2', 'ossm3', 'istio']),
    )
    .option('--crds <dir>', 'CRD directory for schema and CEL validation, SM0001 (repeatable)', collect)
    .option('--rule <codes>', 'only these rules (codes or names, comma-separated; repeatable)', collect)
    .option('--skip <codes>', 'skip these rules (codes or names, comma-separated; repeatable)', collect)
    .addOption(new Option('--severity <level>', 'lowest severity reported').choices(['info', 'warning', 'error']).default('info'))
    .addOption(outputOption(['text', 'json', 'yaml', 'sarif'] as const, 'text'))
    .option('--list-rules', 'print the rule catalogue and exit')
    .action(
      returnsCode(async (opts: CheckOptions, cmd: Command) => {
        if (opts.listRules) {
          for (const d of descriptors()) process.stdout.write(`${d.code}  ${d.severity.padEnd(7)}  ${d.name}: ${d.title}\n`);
          return;
        }
        const only = splitList(opts.rule);
        const skip = splitList(opts.skip);
        const known = new Set(RULES.flatMap((r) => [r.meta.code, r.meta.name]));
        for (const c of [...only, ...skip])
          if (!known.has(c)) throw new UserError(`unknown rule "${c}" (serverless-mesh check --list-rules)`, 2);
        if (!opts.filename && !opts.manifests?.length && !opts.cluster)
          throw new UserError('give a spec (-f SPEC), manifests (-m PATH…) or --cluster', 2);
        if (opts.filename && opts.manifests?.length) throw new UserError('use either -f SPEC or -m PATH…, not both', 2);

        const set = new ManifestSet();
        let modelOptions: ModelOptions | undefined;
        if (opts.filename) {
          const mesh = loadSpecFile(opts.filename);
          modelOptions = specModelOptions(mesh);
          set.addObjects(render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } }), opts.filename);
        }
        if (opts.manifests?.length) readManifestSet(opts.manifests, set);

        let objects: KubeObject[] = set.objects;
        const selected = enabledRules(RULES, undefined, { only, skip });
        let absent: string[] = [];
        if (opts.cluster) {
          ({ objects, absent } = await liveWithOverlay(
            cmd.optsWithGlobals<{ kubeconfig?: string; context?: string }>(),
            neededKinds(selected),
            set.objects,
          ));
        }

        let validate;
        if (opts.crds?.length) {
          const schemas = CrdSchemas.fromDirs(opts.crds);
          validate = (o: KubeObject) => schemas.validate(o);
        }
        const ctx = buildContext(objects, { flavor: opts.flavor, validate, ...(modelOptions ? { model: modelOptions } : {}) });
        const findings: Finding[] = runRules(RULES, ctx, { only, skip, minSeverity: opts.severity, locate: set.locate });
        const notes = coverageNotes(selected, enabledRules(RULES, ctx, { only, skip }), absent);
        // On stderr only for --cluster, where an absent kind is news; SARIF always carries them.
        if (opts.cluster) for (const n of notes) process.stderr.write(`check: note: ${n}\n`);
        if (opts.output === 'json') process.stdout.write(renderJson(findings, notes));
        else if (opts.output === 'yaml') process.stdout.write(emitYaml(JSON.parse(renderJson(findings, notes))));
        else if (opts.output === 'sarif') process.stdout.write(renderSarif(findings, descriptors(), TOOL, notes));
        else
          process.stdout.write(
            renderText(findings, { colour: process.stdout.isTTY === true && !process.env.NO_COLOR, summaryFor: objects.length }),
          );
        return findings.some((f) => SEVERITY_ORDER[f.severity] === SEVERITY_ORDER.error) ? ExitCode.Differences : ExitCode.Ok;
      }),
    );
}

/**
 * What the run could not look at, so "no findings" is not read as "all clear": kinds the cluster
 * does not serve (an absent flavour or component), and selected rules none of whose inputs is
 * present (skipped, as istioctl analyze skips analyzers whose inputs are missing).
 */
export function coverageNotes(selected: readonly Rule[], ran: readonly Rule[], absentKinds: readonly string[]): string[] {
  const notes: string[] = [];
  if (absentKinds.length)
    notes.push(`the cluster serves no ${absentKinds.join(', ')} (those components are absent; nothing of theirs was checked)`);
  const skipped = selected.filter((r) => !ran.includes(r));
  if (skipped.length)
    notes.push(
      `${skipped.length} of ${selected.length} rules skipped, none of the kinds they read is present: ${skipped.map((r) => r.meta.code).join(', ')}`,
    );
  return notes;
}
