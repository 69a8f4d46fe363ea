// Shell completion, computed from the commander tree at the moment of the Tab, so it never goes
// stale: `serverless-mesh __complete WORD… CURRENT` prints the candidates. The bash, zsh and fish
// scripts of `serverless-mesh completion SHELL` only call it and hand the answer to the shell.
//
// The output is cobra's `__complete` protocol, which kubectl (≥ 1.26) also speaks with plugins: for
// `kubectl serverless-mesh …<Tab>` it runs `kubectl_complete-serverless_mesh WORD… CURRENT` from the
// PATH (the last argument is the word being completed, '' after a space) and reads one candidate a
// line (`candidate<TAB>description` allowed), then a last line `:<directive>`, a bit set:
// 1 error, 2 no space, 4 no file completion, 8 filter file extensions, 16 directories only,
// 32 keep order. See kubernetes/kubernetes#105867 (staging/src/k8s.io/kubectl/pkg/cmd/plugin/
// plugin_completion.go, "Shell completion for plugins"), the kubectl plugin KEP 2379 section
// "Shell Completion Support", and cobra's ShellCompDirective (spf13/cobra completions.go).
import type { Command, Option } from 'commander';
import { choicesOf } from './output-format.ts';

export const Directive = { Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4, FilterFileExt: 8, FilterDirs: 16, KeepOrder: 32 } as const;

export interface Completion {
  candidates: Array<{ value: string; description?: string }>;
  directive: number;
}

/** The hidden command the shell scripts and kubectl's helper call. */
export const COMPLETE_COMMAND = '__complete';

const isHidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden === true;
const visibleCommands = (c: Command) => c.commands.filter((s) => !isHidden(s));
const takesValue = (o: Option) => o.required || o.optional;
/** An option whose value is a path: files (or directories) are offered for it. */
const pathValue = (o: Option) => /<(spec|path|paths|file|files|dir|kubeconfig)(\.\.\.)?>/.test(o.flags);
const dirValue = (o: Option) => /<dir>/.test(o.flags);

/** The options in effect for `cmd`: its own, then its ancestors' (global options), then --help. */
function optionsFor(cmd: Command): Option[] {
  const out: Option[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) out.push(...c.options.filter((o) => !o.hidden));
  return out;
}

function findOption(cmd: Command, word: string): Option | undefined {
  return optionsFor(cmd).find((o) => o.long === word || o.short === word);
}

/** Candidates for `args` (the words after the program name; the last one is being completed). */
export function complete(program: Command, args: readonly string[]): Completion {
  const words = args.length === 0 ? [''] : [...args];
  const cur = words.pop() as string;
  let cmd = program;
  let pending: Option | undefined; // an option whose value is the next word
  let variadic: Option | undefined; // an option that takes values until the next option
  let positionals = 0;
  for (const w of words) {
    if (pending) {
      if (pending.variadic) variadic = pending;
      pending = undefined;
      continue;
    }
    if (w === '--') break;
    if (w.startsWith('-') && w.length > 1) {
      variadic = undefined;
      const o = findOption(cmd, w.includes('=') ? w.slice(0, w.indexOf('=')) : w);
      if (o && o.required && !w.includes('=')) pending = o;
      continue;
    }
    if (variadic) continue;
    const sub = visibleCommands(cmd).find((c) => c.name() === w || c.aliases().includes(w));
    if (sub && positionals === 0) cmd = sub;
    else positionals++;
  }

  const filter = (values: ReadonlyArray<{ value: string; description?: string }>) => values.filter((v) => v.value.startsWith(cur));
  const valuesOf = (o: Option, prefix = ''): Completion => {
    const choices = choicesOf(o);
    if (choices) return { candidates: filter(choices.map((c) => ({ value: prefix + c }))), directive: Directive.NoFileComp };
    if (pathValue(o)) return { candidates: [], directive: dirValue(o) ? Directive.FilterDirs : Directive.Default };
    return { candidates: [], directive: Directive.NoFileComp };
  };

  if (pending) return valuesOf(pending);
  if (cur.startsWith('--') && cur.includes('=')) {
    const o = findOption(cmd, cur.slice(0, cur.indexOf('=')));
    return o && takesValue(o) ? valuesOf(o, cur.slice(0, cur.indexOf('=') + 1)) : { candidates: [], directive: Directive.NoFileComp };
  }
  if (cur.startsWith('-')) {
    const flags = optionsFor(cmd).flatMap((o) =>
      [o.long, o.short].filter((f): f is string => !!f).map((f) => ({ value: f, description: o.description })),
    );
    flags.push({ value: '--help', description: 'display help for command' });
    if (cmd === program) flags.push({ value: '--version', description: 'output the version number' });
    const seen = new Set<string>();
    return { candidates: filter(flags).filter((f) => !seen.has(f.value) && seen.add(f.value)), directive: Directive.NoFileComp };
  }
  if (variadic && pathValue(variadic)) return { candidates: [], directive: Directive.Default };
  const subs = visibleCommands(cmd);
  if (subs.length > 0 && positionals === 0)
    return { candidates: filter(subs.map((c) => ({ value: c.name(), description: c.description() }))), directive: Directive.NoFileComp };
  const arg = cmd.registeredArguments[Math.min(positionals, cmd.registeredArguments.length - 1)];
  if (arg?.argChoices && (positionals < cmd.registeredArguments.length || arg.variadic))
    return { candidates: filter(arg.argChoices.map((value) => ({ value }))), directive: Directive.NoFileComp };
  // Other positional arguments (mesh-ify <files...>) are files.
  if (arg && (positionals < cmd.registeredArguments.length || arg.variadic)) return { candidates: [], directive: Directive.Default };
  return { candidates: [], directive: Directive.NoFileComp };
}

/** The `__complete` output: candidates (tab, first line of the description), then `:directive`. */
export function formatCompletion(c: Completion): string {
  const line = (v: { value: string; description?: string }) => (v.description ? `${v.value}\t${v.description.split('\n')[0]}` : v.value);
  return `${[...c.candidates.map(line), `:${c.directive}`].join('\n')}\n`;
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The names the scripts complete: the command and the kubectl plugin executable. */
export const PROGRAM_NAMES = ['serverless-mesh', 'kubectl-serverless_mesh'] as const;

/** The completion script for `shell`; it calls `<the word the user typed first> __complete …`. */
export function completionScript(shell: Shell): string {
  const names = PROGRAM_NAMES.join(' ');
  if (shell === 'bash') {
    return `# bash completion for serverless-mesh (generated by \`serverless-mesh completion bash\`)
# Install: serverless-mesh completion bash > ~/.local/share/bash-completion/completions/serverless-mesh
#      or: source <(serverless-mesh completion bash)
# Candidates come from \`serverless-mesh ${COMPLETE_COMMAND}\` (the command tree of the installed version).
_serverless_mesh_complete() {
    local cur="\${COMP_WORDS[COMP_CWORD]}" i w out directive
    local -a args=() cands=()
    # bash splits --opt=value at '=': join the pieces again.
    for ((i = 1; i <= COMP_CWORD; i++)); do
        w="\${COMP_WORDS[i]}"
        if [[ $w == "=" && \${#args[@]} -gt 0 ]]; then
            args[\${#args[@]}-1]+="="
            if ((i < COMP_CWORD)); then ((i++)); args[\${#args[@]}-1]+="\${COMP_WORDS[i]}"; fi
            [[ $i == "$COMP_CWORD" ]] && cur="\${COMP_WORDS[i]}"
            [[ $w == "=" && $cur == "=" ]] && cur=""
            continue
        fi
        args+=("$w")
    done
    out=$("\${COMP_WORDS[0]}" ${COMPLETE_COMMAND} "\${args[@]}" 2>/dev/null) || return
    directive=\${out##*:}
    [[ $directive =~ ^[0-9]+$ ]] || directive=0
    out=\${out%:*}
    (( directive & 1 )) && return
    local prefix=""
    local last="\${args[\${#args[@]}-1]}"
    [[ $last == *=* && $cur != -* ]] && prefix="\${last%%=*}="
    while IFS= read -r w; do
        [[ -z $w ]] && continue
        w=\${w%%$'\\t'*}
        cands+=("\${w#"$prefix"}")
    done <<< "$out"
    COMPREPLY=()
    if ((\${#cands[@]} > 0)); then
        COMPREPLY=("\${cands[@]}")
    elif (( directive & 16 )); then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    elif (( (directive & 4) == 0 )); then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    (( directive & 2 )) && compopt -o nospace 2>/dev/null
    return 0
}
complete -o bashdefault -o filenames -F _serverless_mesh_complete ${names}
`;
  }
  if (shell === 'zsh') {
    return `#compdef ${names}
# zsh completion for serverless-mesh (generated by \`serverless-mesh completion zsh\`)
# Install: serverless-mesh completion zsh > "\${fpath[1]}/_serverless-mesh"   (then: compinit)
#      or: source <(serverless-mesh completion zsh)
# Candidates come from \`serverless-mesh ${COMPLETE_COMMAND}\` (the command tree of the installed version).
_serverless_mesh() {
    local out directive line
    local -a cands
    out=$("\${words[1]}" ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    directive=\${out##*:}
    [[ $directive == <-> ]] || directive=0
    out=\${out%:*}
    (( directive & 1 )) && return 1
    for line in "\${(@f)out}"; do
        [[ -z $line ]] && continue
        if [[ $line == *$'\\t'* ]]; then
            cands+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
        else
            cands+=("\${line//:/\\\\:}")
        fi
    done
    if (( \${#cands} > 0 )); then
        if (( directive & 2 )); then _describe -t candidates 'serverless-mesh' cands -S ''; else _describe -t candidates 'serverless-mesh' cands; fi
    elif (( directive & 16 )); then
        _files -/
    elif (( (directive & 4) == 0 )); then
        _files
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _serverless_mesh "$@"
else
    compdef _serverless_mesh ${names}
fi
`;
  }
  return `# fish completion for serverless-mesh (generated by \`serverless-mesh completion fish\`)
# Install: serverless-mesh completion fish > ~/.config/fish/completions/serverless-mesh.fish
# Candidates come from \`serverless-mesh ${COMPLETE_COMMAND}\` (the command tree of the installed version).
function __serverless_mesh_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($words[1] ${COMPLETE_COMMAND} $words[2..-1] "$cur" 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or set directive 0
    set -e out[-1]
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (count $out) -gt 0
        printf '%s\\n' $out
    else if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories "$cur"
    else if test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path "$cur"
    end
end
${PROGRAM_NAMES.map((n) => `complete -c ${n} -f -a '(__serverless_mesh_complete)'`).join('\n')}
`;
}
