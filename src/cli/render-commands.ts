import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { prepareTls } from '../certs/prepare.ts';
import { writeCertFiles } from '../certs/write.ts';
import { render } from '../render/index.ts';
import { meshReadyKsvc } from '../render/ksvc.ts';
import { meshify } from '../render/meshify.ts';
import { fileNameFor, toJson, toYaml } from '../render/serialize.ts';
import { DNS1123_LABEL } from '../api/schema.ts';
import { loadSpecFile } from '../api/load.ts';
import { InputErrors, UserError } from '../util/errors.ts';

const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml');

function parseEnv(value: string, previous: Array<{ name: string; value: string }> = []) {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  return [...previous, { name: value.slice(0, eq), value: value.slice(eq + 1) }];
}

function parsePositiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return Number(value);
}

function dnsLabel(what: string) {
  return (value: string) => {
    if (value.length > 63 || !new RegExp(DNS1123_LABEL).test(value)) {
      throw new InvalidArgumentError(`invalid ${what} "${value}": must be a DNS-1123 label`);
    }
    return value;
  };
}

export function register(program: Command): void {
  program
    .command('render')
    .description('render every resource of the mesh integration from a ServerlessMesh spec')
    .requiredOption('-f, --filename <spec>', 'ServerlessMesh spec file')
    .option('-o, --output-dir <dir>', 'write one file per object into this directory instead of stdout')
    .option('--certs-dir <dir>', 'with tls.generate: reuse wildcard.crt/.key from here, or write new ones here')
    .addOption(formatOption())
    .action(async (opts: { filename: string; outputDir?: string; certsDir?: string; format: 'yaml' | 'json' }) => {
      const mesh = loadSpecFile(opts.filename);
      const tls = await prepareTls(mesh, opts.certsDir);
      const objects = render(mesh, tls ? { tls } : {});
      if (!opts.outputDir) {
        process.stdout.write(opts.format === 'json' ? toJson(objects) : toYaml(objects));
        return;
      }
      mkdirSync(opts.outputDir, { recursive: true });
      objects.forEach((obj, i) => {
        const path = join(opts.outputDir as string, fileNameFor(obj, i, opts.format));
        const body = opts.format === 'json' ? `${JSON.stringify(obj, null, 2)}\n` : toYaml([obj]);
        // A Secret holds a private key: readable by the owner only.
        writeFileSync(path, body, { mode: obj.kind === 'Secret' ? 0o600 : 0o644 });
      });
      process.stderr.write(`wrote ${objects.length} objects to ${opts.outputDir}\n`);
    });

  program
    .command('certs')
    .description('generate a root CA and a wildcard certificate for *.DOMAIN (RSA 2048, SHA-256)')
    .requiredOption('--domain <domain>', 'apps domain, e.g. apps.openshift.example.com')
    .requiredOption('-o, --output-dir <dir>', 'directory for root.crt, root.key, wildcard.crt, wildcard.key')
    .option('--organization <org>', 'organisation in the certificate subjects', 'serverless-mesh')
    .option('--days <n>', 'validity of the wildcard certificate in days', parsePositiveInt, 365)
    .action(async (opts: { domain: string; outputDir: string; organization: string; days: number }) => {
      if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(opts.domain)) {
        throw new UserError(`--domain: invalid domain "${opts.domain}"`, 2);
      }
      const { generateWildcardCerts } = await import('../certs/generate.ts');
      const certs = await generateWildcardCerts(opts.domain, { organization: opts.organization, days: opts.days });
      const paths = writeCertFiles(opts.outputDir, certs);
      // Paths only: key material never goes to the terminal.
      process.stderr.write(`wrote ${paths.join(', ')} (keys mode 0600)\n`);
    });

  program
    .command('service')
    .description('render a mesh-ready Knative Service')
    .requiredOption('--name <name>', 'service name', dnsLabel('name'))
    .requiredOption('--namespace <ns>', 'namespace (a mesh member)', dnsLabel('namespace'))
    .requiredOption('--image <image>', 'container image')
    .option('--env <KEY=VALUE>', 'environment variable (repeatable)', parseEnv)
    .option('--gpu <n>', 'NVIDIA GPUs (nvidia.com/gpu limit)', parsePositiveInt)
    .addOption(formatOption())
    .action(
      (opts: {
        name: string;
        namespace: string;
        image: string;
        env?: Array<{ name: string; value: string }>;
        gpu?: number;
        format: 'yaml' | 'json';
      }) => {
        const ksvc = meshReadyKsvc({
          name: opts.name,
          namespace: opts.namespace,
          image: opts.image,
          ...(opts.env ? { env: opts.env } : {}),
          ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}),
        });
        process.stdout.write(opts.format === 'json' ? `${JSON.stringify(ksvc, null, 2)}\n` : toYaml([ksvc]));
      },
    );

  program
    .command('mesh-ify')
    .description('add the passthrough annotation, injection label and probe rewrite to Knative Service manifests')
    .argument('<files...>', 'manifest files (other documents are left untouched)')
    .option('-i, --in-place', 'rewrite the files instead of printing to stdout')
    .action((files: string[], opts: { inPlace?: boolean }) => {
      const errors: string[] = [];
      const results: Array<{ file: string; text: string; changed: boolean }> = [];
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          errors.push(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
          continue;
        }
        try {
          const r = meshify(file, text);
          for (const c of r.changes) process.stderr.write(`${c}\n`);
          results.push({ file, text: r.text, changed: r.text !== text });
        } catch (err) {
          if (err instanceof InputErrors) errors.push(...err.lines);
          else throw err;
        }
      }
      // All or nothing: no file is rewritten when any input is bad.
      if (errors.length > 0) throw new InputErrors(errors);
      for (const r of results) {
        if (opts.inPlace) {
          if (r.changed) writeFileSync(r.file, r.text);
        } else process.stdout.write(r.text.startsWith('---') || results.length === 1 ? r.text : `---\n${r.text}`);
      }
    });
}
