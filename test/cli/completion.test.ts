import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { complete, completionScript, Directive, formatCompletion } from '../../src/cli/completion.ts';
import { choicesOf } from '../../src/cli/output-format.ts';
import { ROOT } from '../helpers/shared.ts';

const BIN = join(ROOT, 'bin/serverless-mesh.js');
const HELPER = join(ROOT, 'bin/kubectl_complete-serverless_mesh.js');
const values = (args: string[]) => complete(buildProgram(), args).candidates.map((c) => c.value);
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('completion engine (the commander tree at run time)', () => {
  it('commands, options, option choices, files', () => {
    assert.deepEqual(values(['ren']), ['render']);
    assert.deepEqual(values(['render', '--out']), ['--output', '--output-dir']);
    assert.deepEqual(values(['render', '-o', '']), ['yaml', 'json', 'text']);
    assert.deepEqual(values(['check', '-o', '']), ['text', 'json', 'yaml', 'sarif']);
    assert.deepEqual(values(['verify', '--via', 'l']), ['local-gateway']);
    assert.deepEqual(values(['render', '--output=j']), ['--output=json']);
    assert.deepEqual(values(['completion', '']), ['bash', 'zsh', 'fish']);
    assert.ok(values(['render', '--']).includes('--kubeconfig'), 'global options are offered');
    assert.equal(complete(buildProgram(), ['render', '-f', '']).directive, Directive.Default, 'a spec path: files');
    assert.equal(complete(buildProgram(), ['render', '--output-dir', '']).directive, Directive.FilterDirs);
    assert.equal(complete(buildProgram(), ['mesh-ify', '']).directive, Directive.Default);
    assert.equal(complete(buildProgram(), ['service', '--name', '']).directive, Directive.NoFileComp);
    assert.ok(!values(['']).includes('__complete'), 'the hidden command is not offered');
  });

  it('every visible command and every option of the tree is reachable (nothing goes stale)', () => {
    const program = buildProgram();
    const walk = (cmd: Command, path: string[]) => {
      for (const o of cmd.options.filter((x) => !x.hidden)) {
        assert.ok(values([...path, o.long!]).includes(o.long!), `${path.join(' ')} ${o.long}`);
        const choices = choicesOf(o);
        if (choices && o.required) assert.deepEqual(values([...path, o.long!, '']), [...choices], `${path.join(' ')} ${o.long} choices`);
      }
      for (const sub of cmd.commands.filter((c) => c.name() !== '__complete')) {
        assert.ok(values([...path, sub.name()]).includes(sub.name()), sub.name());
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(program, []);
  });

  it("__complete and the kubectl helper print cobra's format: candidates, then :directive", () => {
    assert.equal(formatCompletion({ candidates: [{ value: 'a', description: 'x\ny' }, { value: 'b' }], directive: 4 }), 'a\tx\nb\n:4\n');
    for (const argv of [
      [BIN, '__complete', 'render', '-o', ''],
      [HELPER, 'render', '-o', ''],
    ]) {
      const r = spawnSync(process.execPath, argv, { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'yaml\njson\ntext\n:4\n');
    }
    // The user's words are not options of ours: --kubeconfig, --help and --version are completed, not run.
    const r = spawnSync(process.execPath, [BIN, '__complete', '--kubeconfig', 'k', 'render', '--he'], { encoding: 'utf8' });
    assert.equal(r.stdout, '--help\tdisplay help for command\n:4\n');
  });
});

describe('serverless-mesh completion SHELL', () => {
  const script = (shell: string) => {
    const r = spawnSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  it('an unknown shell: exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'completion', 'tcsh'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Allowed choices are bash, zsh, fish/);
  });

  it('bash: the sourced script completes prefixes in a real bash (COMP_WORDS / COMP_CWORD → COMPREPLY)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-completion-'));
    const file = join(dir, 'serverless-mesh.bash');
    writeFileSync(file, script('bash'));
    writeFileSync(join(dir, 'spec.yaml'), '');
    assert.equal(spawnSync('bash', ['-n', file]).status, 0, 'bash -n');
    const comp = (...words: string[]) => {
      // words: the line after the program; the last one is the word under the cursor.
      const arr = [BIN, ...words].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
      const r = spawnSync(
        'bash',
        [
          '--norc',
          '--noprofile',
          '-c',
          `source ${file}; COMP_WORDS=(${arr}); COMP_CWORD=${words.length}; COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}; _serverless_mesh_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8', cwd: dir },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(comp('ren'), ['render']);
    assert.deepEqual(comp('render', '--out'), ['--output', '--output-dir']);
    assert.deepEqual(comp('render', '-o', ''), ['yaml', 'json', 'text']);
    assert.deepEqual(comp('check', '--severity', 'w'), ['warning']);
    // bash splits --output=j at '=': the pieces are joined, the value completed.
    assert.deepEqual(comp('render', '--output', '=', 'j'), ['json']);
    // A path: the files of the directory.
    assert.deepEqual(comp('render', '-f', 'sp'), ['spec.yaml']);
    // The registration covers both names.
    const reg = spawnSync('bash', ['--norc', '-c', `source ${file}; complete -p serverless-mesh kubectl-serverless_mesh`], {
      encoding: 'utf8',
    });
    assert.match(reg.stdout, /-F _serverless_mesh_complete serverless-mesh\n.*-F _serverless_mesh_complete kubectl-serverless_mesh/);
  });

  it('zsh: generated, compdef for both names; checked with zsh -n when zsh is installed', (t) => {
    const s = script('zsh');
    assert.equal(s, completionScript('zsh'));
    assert.match(s, /^#compdef serverless-mesh kubectl-serverless_mesh\n/);
    assert.match(s, /__complete "\$\{\(@\)words\[2,CURRENT\]\}"/);
    assert.match(s, /compdef _serverless_mesh serverless-mesh kubectl-serverless_mesh/);
    if (!has('zsh')) return t.diagnostic('zsh is not installed: syntax not checked');
    const dir = mkdtempSync(join(tmpdir(), 'sm-completion-'));
    writeFileSync(join(dir, '_serverless-mesh'), s);
    assert.equal(spawnSync('zsh', ['-n', join(dir, '_serverless-mesh')]).status, 0);
  });

  it('fish: generated, one complete -c per name; checked with fish -n when fish is installed', (t) => {
    const s = script('fish');
    assert.match(s, /^function __serverless_mesh_complete$/m);
    assert.match(s, /^end$/m);
    assert.match(s, /^complete -c serverless-mesh -f -a '\(__serverless_mesh_complete\)'$/m);
    assert.match(s, /^complete -c kubectl-serverless_mesh -f -a '\(__serverless_mesh_complete\)'$/m);
    // block structure: every function/if has its end
    const opens = s.split('\n').filter((l) => /^\s*(function|if)\b/.test(l)).length;
    const ends = s.split('\n').filter((l) => /^\s*end$/.test(l)).length;
    assert.equal(opens, ends);
    if (!has('fish')) return t.diagnostic('fish is not installed: syntax not checked');
    const dir = mkdtempSync(join(tmpdir(), 'sm-completion-'));
    writeFileSync(join(dir, 'sm.fish'), s);
    assert.equal(spawnSync('fish', ['-n', join(dir, 'sm.fish')]).status, 0);
  });
});
