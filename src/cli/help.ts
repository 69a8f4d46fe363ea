// `--help` of every command ends with its exit codes (generated from the ExitCode enum, never copied)
// and at least one example. The tree is walked after registration, so a command added without an
// entry here fails test/cli/help.test.ts.
import type { Command } from 'commander';
import { ExitCode, EXIT_CODE_MEANING } from './exit-codes.ts';

export interface CommandHelp {
  /** Shell lines, without the program name (`render -f spec.yaml`). */
  examples: string[];
  /** The codes this command can end with besides Ok, BadInput and Internal (which every command can). */
  codes?: ExitCode[];
  /** What Differences means for this command, when it can return it. */
  differences?: string;
}

const P = 'serverless-mesh';

/** Keyed by the command path below the program (`render`, `completion`). */
export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  '': {
    differences: 'differences or findings (diff, verify, check)',
    examples: [
      'render -f examples/ossm2-basic.yaml | kubectl apply -f -',
      'check -f examples/ossm3-tenants.yaml',
      'completion bash > ~/.local/share/bash-completion/completions/serverless-mesh',
    ],
  },
  render: {
    examples: [
      'render -f examples/ossm2-basic.yaml > bundle.yaml',
      'render -f spec.yaml --output-dir out/ --certs-dir certs/',
      'render -f spec.yaml -o text',
    ],
  },
  certs: { examples: ['certs --domain apps.openshift.example.com --output-dir certs/'] },
  service: {
    examples: [
      'service --name hello --namespace team-a --image quay.io/org/hello:1.0 --env TARGET=mesh',
      'service --name llm --namespace team-a --image quay.io/org/llm:2 --gpu 1',
    ],
  },
  'mesh-ify': {
    examples: [
      'mesh-ify ksvc.yaml > ksvc-mesh.yaml',
      'mesh-ify -i ksvc.yaml',
      'mesh-ify -i --gpu 3 ksvc.yaml',
      'kubectl get ksvc hello -o yaml | serverless-mesh mesh-ify -',
    ],
  },
  check: {
    examples: ['check -f examples/ossm3-tenants.yaml', 'check -m manifests/ -o sarif > check.sarif', 'check --cluster --severity warning'],
    codes: [ExitCode.Differences, ExitCode.Cluster],
    differences: 'findings of severity error',
  },
  authz: {
    examples: [
      'authz -m policies.yaml --request \'{"source":{"namespace":"team-b","serviceAccount":"default"},"destination":{"namespace":"team-a","labels":{"app":"hello"},"port":8080},"method":"GET","path":"/"}\'',
    ],
  },
  verify: {
    examples: [
      'verify -f examples/ossm2-tenants.yaml',
      'verify -m bundle.yaml --from team-b --to team-a/hello --via activator',
      'verify -f mesh.yaml --live --ca-file root.crt',
    ],
    // Cluster and Interrupted: --live only (it talks to the cluster and cleans up its probe pods on Ctrl-C).
    codes: [ExitCode.Differences, ExitCode.Cluster, ExitCode.Interrupted],
    differences:
      'a leak or a broken required path; with --live: a probe result that differs from the prediction, is unknown, or could not be made',
  },
  report: {
    examples: [
      'report -f examples/ossm2-tenants.yaml > report.html',
      'report -m bundle.yaml --output-file report.html',
      'report --cluster --output-file report.html',
    ],
    codes: [ExitCode.Differences, ExitCode.Cluster],
    differences: 'the report was written and shows a leak, a refused same-tenant request, a blocked required edge or an error finding',
  },
  apply: { examples: ['apply -f spec.yaml --wait 5m', 'apply -f spec.yaml --dry-run server'], codes: [ExitCode.Cluster] },
  diff: {
    examples: ['diff -f spec.yaml'],
    codes: [ExitCode.Differences, ExitCode.Cluster],
    differences: 'the cluster differs from the spec',
  },
  delete: { examples: ['delete -f spec.yaml', 'delete -f spec.yaml --delete-namespaces'], codes: [ExitCode.Cluster] },
  migrate: {
    examples: ['migrate --cluster --output-dir migration/', 'migrate -m ossm2/ > serverless-mesh.yaml', 'migrate --cluster --apply'],
    codes: [ExitCode.Cluster],
  },
  controller: {
    examples: [
      'controller manifests --image quay.io/org/serverless-mesh-controller:0.1.0 | kubectl apply -f -',
      'controller run --listen :8080',
    ],
    codes: [ExitCode.Cluster],
  },
  'controller manifests': {
    examples: [
      'controller manifests --image quay.io/org/serverless-mesh-controller:0.1.0 | kubectl apply -f -',
      'controller manifests -o json',
    ],
  },
  'controller run': { examples: ['controller run', 'controller run --no-leader-elect --listen 127.0.0.1:8080'], codes: [ExitCode.Cluster] },
  completion: {
    examples: [
      'completion bash > ~/.local/share/bash-completion/completions/serverless-mesh',
      'completion zsh > "${fpath[1]}/_serverless-mesh"',
      'completion fish > ~/.config/fish/completions/serverless-mesh.fish',
    ],
  },
  __complete: { examples: ['__complete render --o'] },
};

/** The command's path below the program, `''` for the program itself. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every code the enum defines, in order. */
export const ALL_EXIT_CODES: readonly ExitCode[] = Object.values(ExitCode)
  .filter((v): v is ExitCode => typeof v === 'number')
  .sort((a, b) => a - b);

/** The exit codes and examples section of one command's help. */
export function helpFooter(path: string, help: CommandHelp): string {
  const codes =
    path === ''
      ? ALL_EXIT_CODES
      : ALL_EXIT_CODES.filter((c) => c === ExitCode.Ok || c === ExitCode.BadInput || c === ExitCode.Internal || help.codes?.includes(c));
  const meaning = (c: ExitCode) => (c === ExitCode.Differences && help.differences ? help.differences : EXIT_CODE_MEANING[c]);
  const lines = [
    '',
    'Exit codes:',
    ...codes.map((c) => `  ${c}  ${meaning(c)}`),
    '',
    help.examples.length > 1 ? 'Examples:' : 'Example:',
    ...help.examples.map((e) => `  ${P} ${e}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Adds the footer to `program` and every command below it; throws for a command without an entry. */
export function addHelpFooters(program: Command): void {
  const visit = (cmd: Command) => {
    const path = commandPath(cmd);
    const help = COMMAND_HELP[path];
    if (!help || help.examples.length === 0) throw new Error(`src/cli/help.ts: no examples for "${path || P}"`);
    if (help.codes?.includes(ExitCode.Differences) && !help.differences)
      throw new Error(`src/cli/help.ts: say what exit ${ExitCode.Differences} means for "${path}"`);
    cmd.addHelpText('after', helpFooter(path, help));
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}
