import { statSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { prepareTls } from '../certs/prepare.ts';
import { writeCertFiles } from '../certs/write.ts';
import { render } from '../render/index.ts';
import { meshReadyKsvc } from '../render/ksvc.ts';
import { meshify } from '../render/meshify.ts';
import { toJson, toYaml } from '../render/serialize.ts';
import { DNS1123_LABEL } from '../api/schema.ts';
import { loadSpecFile } from '../api/load.ts';
import { manifestsFromText } from '../manifests/read.ts';
import { InputError, InputErrors } from '../util/errors.ts';
import { inputName, readInput, STDIN } from '../util/input.ts';
import type { KubeObject } from '../util/kube.ts';
import { writeFilesAtomic } from '../util/output.ts';
import { outputOption } from './output-format.ts';
import { writeRenderDir } from './output-dir.ts';

// Kubernetes' rule for environment variable names (C identifiers plus '-' and '.').
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
// A container image reference: registry[:port]/path[:tag][@digest], no spaces or control characters.
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

function parseEnv(value: string, previous: Array<{ name: string; value: string }> = []) {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  const name = value.slice(0, eq);
  if (!ENV_NAME.test(name))
    throw new InvalidArgumentError(`invalid variable name "${name}": letters, digits, '_', '-' and '.', not starting with a digit`);
  if (previous.some((e) => e.name === name)) throw new InvalidArgumentError(`"${name}" is given twice`);
  return [...previous, { name, value: value.slice(eq + 1) }];
}

function parseImage(value: string): string {
  if (!value || value.length > 1024 || !IMAGE.test(value)) {
    throw new InvalidArgumentError(`invalid image "${value}": expected a reference like quay.io/org/name:tag (no spaces)`);
  }
  return value;
}

function parsePositiveInt(max: number, why = '') {
  return (value: string): number => {
    if (!/^[1-9]\d*$/.test(value) || Number(value) > max)
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}${why}, got "${value}"`);
    return Number(value);
  };
}

function dnsLabel(what: string) {
  return (value: string) => {
    if (value.length > 63 || !new RegExp(DNS1123_LABEL).test(value)) {
      throw new InvalidArgumentError(`invalid ${what} "${value}": must be a DNS-1123 label`);
    }
    return value;
  };
}

/** Deprecated `--format yaml|json` of render/service: still read, hidden from help; `-o` wins. */
const legacyFormat = () => new Option('--format <format>').choices(['yaml', 'json']).hideHelp();

/** `KIND  NAMESPACE  NAME`, one object a line (`-o text`). */
function objectTable(objects: readonly KubeObject[]): string {
  const rows = [
    ['KIND', 'NAMESPACE', 'NAME'],
    ...objects.map((o) => [`${o.kind}.${o.apiVersion.split('/')[0]}`, o.metadata.namespace ?? '', o.metadata.name]),
  ];
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return `${rows.map((r) => `${(r[0] as string).padEnd(w[0] as number)}  ${(r[1] as string).padEnd(w[1] as number)}  ${r[2]}`.trimEnd()).join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('render')
    .description('render every resource of the mesh integration from a ServerlessMesh spec')
    .requiredOption('-f, --filename <spec>', 'ServerlessMesh spec file (- for stdin)')
    .addOption(outputOption(['yaml', 'json', 'text'], 'yaml'))
    .option(
      '--output-dir <dir>',
      'write one file per object into this directory (its exact image: files of an earlier render that this one does not produce are removed)',
    )
    .option('--certs-dir <dir>', 'with tls.generate: reuse wildcard.crt/.key from here, or write new ones here')
    .addOption(legacyFormat())
    .action(
      async (
        opts: { filename: string; output: 'yaml' | 'json' | 'text'; outputDir?: string; certsDir?: string; format?: 'yaml' | 'json' },
        cmd: Command,
      ) => {
        const output = cmd.getOptionValueSource('output') === 'default' && opts.format ? opts.format : opts.output;
        if (opts.outputDir && output === 'text') throw new InputError('--output-dir writes yaml or json files: use -o yaml or -o json');
        const mesh = loadSpecFile(opts.filename);
        const tls = await prepareTls(mesh, opts.certsDir);
        const objects = render(mesh, tls ? { tls } : {});
        if (!opts.outputDir) {
          process.stdout.write(output === 'json' ? toJson(objects) : output === 'text' ? objectTable(objects) : toYaml(objects));
          return;
        }
        const r = writeRenderDir(opts.outputDir, objects, output as 'yaml' | 'json');
        process.stderr.write(
          `wrote ${objects.length} objects to ${opts.outputDir}${r.removed.length ? `, removed ${r.removed.length} files of an earlier render` : ''}\n`,
        );
      },
    );

  program
    .command('certs')
    .description('generate a root CA and a wildcard certificate for *.DOMAIN (RSA 2048, SHA-256)')
    .requiredOption('--domain <domain>', 'apps domain, e.g. apps.openshift.example.com')
    .requiredOption('--output-dir <dir>', 'directory for root.crt, root.key, wildcard.crt, wildcard.key')
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'))
    .option('--organization <org>', 'organisation in the certificate subjects', 'serverless-mesh')
    .option(
      '--days <n>',
      "validity of the wildcard certificate in days (at most 3650, the root CA's)",
      parsePositiveInt(3650, ", the root CA's validity"),
      365,
    )
    .option('--overwrite', 'replace existing certificate and key files')
    .action(
      async (opts: {
        domain: string;
        outputDir: string;
        output: 'text' | 'json' | 'yaml';
        organization: string;
        days: number;
        overwrite?: boolean;
      }) => {
        if (!/^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/.test(opts.domain)) {
          throw new InputError(
            `--domain: invalid domain "${opts.domain}": expected lowercase DNS labels of at most 63 characters separated by dots`,
          );
        }
        const { generateWildcardCerts } = await import('../certs/generate.ts');
        const certs = await generateWildcardCerts(opts.domain, { organization: opts.organization, days: opts.days });
        const paths = writeCertFiles(opts.outputDir, certs, { overwrite: opts.overwrite });
        // Paths only: key material never goes to the terminal.
        if (opts.output === 'json') process.stdout.write(`${JSON.stringify({ files: paths }, null, 2)}\n`);
        else if (opts.output === 'yaml') process.stdout.write(`files:\n${paths.map((p) => `  - ${JSON.stringify(p)}\n`).join('')}`);
        else process.stderr.write(`wrote ${paths.join(', ')} (keys mode 0600)\n`);
      },
    );

  program
    .command('service')
    .description('render a mesh-ready Knative Service')
    .requiredOption('--name <name>', 'service name', dnsLabel('name'))
    .requiredOption('--namespace <ns>', 'namespace (a mesh member)', dnsLabel('namespace'))
    .requiredOption('--image <image>', 'container image', parseImage)
    .option('--env <KEY=VALUE>', 'environment variable (repeatable)', parseEnv)
    .option('--gpu <n>', 'NVIDIA GPUs (nvidia.com/gpu limit)', parsePositiveInt(1024))
    .addOption(outputOption(['yaml', 'json'], 'yaml'))
    .addOption(legacyFormat())
    .action(
      (
        opts: {
          name: string;
          namespace: string;
          image: string;
          env?: Array<{ name: string; value: string }>;
          gpu?: number;
          output: 'yaml' | 'json';
          format?: 'yaml' | 'json';
        },
        cmd: Command,
      ) => {
        const output = cmd.getOptionValueSource('output') === 'default' && opts.format ? opts.format : opts.output;
        const ksvc = meshReadyKsvc({
          name: opts.name,
          namespace: opts.namespace,
          image: opts.image,
          ...(opts.env ? { env: opts.env } : {}),
          ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}),
        });
        process.stdout.write(output === 'json' ? `${JSON.stringify(ksvc, null, 2)}\n` : toYaml([ksvc]));
      },
    );

  program
    .command('mesh-ify')
    .description(
      'add the passthrough annotation, injection label and probe rewrite to Knative Service manifests (--gpu: and the GPU limit)',
    )
    .argument('<files...>', 'manifest files, - for stdin (other documents are left untouched, byte for byte)')
    .option('-i, --in-place', 'rewrite the files instead of printing to stdout')
    .option(
      '--gpu <n>',
      'set or change the NVIDIA GPU limit (nvidia.com/gpu) of the serving container, as kn service update --limit nvidia.com/gpu=N',
      parsePositiveInt(1024),
    )
    .addOption(outputOption(['yaml', 'json'], 'yaml'))
    .action((files: string[], opts: { inPlace?: boolean; gpu?: number; output: 'yaml' | 'json' }) => {
      if (opts.inPlace && files.includes(STDIN)) throw new InputError('mesh-ify: -i cannot rewrite stdin (-)');
      if (opts.inPlace && opts.output === 'json') throw new InputError('mesh-ify: -i rewrites the files as YAML; -o json prints instead');
      const errors: string[] = [];
      const results: Array<{ file: string; name: string; text: string; changed: boolean }> = [];
      for (const file of files) {
        let text: string;
        try {
          text = readInput(file, 'manifest');
        } catch (err) {
          if (err instanceof InputError) errors.push(err.message);
          else throw err;
          continue;
        }
        try {
          const r = meshify(inputName(file), text, opts.gpu !== undefined ? { gpu: opts.gpu } : {});
          for (const c of r.changes) process.stderr.write(`${c}\n`);
          results.push({ file, name: inputName(file), text: r.text, changed: r.text !== text });
        } catch (err) {
          if (err instanceof InputErrors) errors.push(...err.lines);
          else throw err;
        }
      }
      // All or nothing: no file is rewritten when any input is bad.
      if (errors.length > 0) throw new InputErrors(errors);
      if (opts.output === 'json') {
        process.stdout.write(toJson(results.flatMap((r) => manifestsFromText(r.name, r.text))));
        return;
      }
      if (opts.inPlace) {
        const changed = results.filter((r) => r.changed);
        writeFilesAtomic(
          changed.map((r) => ({ path: r.file, body: r.text, mode: statSync(r.file).mode & 0o7777 })),
          'mesh-ify -i',
        );
        return;
      }
      for (const r of results) process.stdout.write(r.text.startsWith('---') || results.length === 1 ? r.text : `---\n${r.text}`);
    });
}
