import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { COMMAND_HELP, commandPath } from '../../src/cli/help.ts';
import { ROOT } from '../helpers/shared.ts';

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function helpOf(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

const codes = Object.values(ExitCode).filter((v): v is ExitCode => typeof v === 'number');

describe('--help of every command', () => {
  const program = buildProgram();
  const commands = allCommands(program);

  it('walks the whole tree (every registered command has a help entry, none is stale)', () => {
    assert.ok(commands.length >= 12, `only ${commands.length} commands`);
    const paths = commands.map(commandPath).sort();
    assert.deepEqual(Object.keys(COMMAND_HELP).sort(), paths);
  });

  for (const cmd of commands) {
    const name = commandPath(cmd) || 'serverless-mesh';
    it(`${name}: lists its exit codes (from the ExitCode enum) and an example`, () => {
      const text = helpOf(cmd);
      const section = /\nExit codes:\n((?: {2}\d+ {2}.+\n)+)/.exec(text);
      assert.ok(section, `${name}: no exit codes section in\n${text}`);
      const listed = section[1]!
        .trimEnd()
        .split('\n')
        .map((l) => Number(/^\s+(\d+)/.exec(l)![1]));
      for (const c of listed) assert.ok(codes.includes(c), `${name}: exit code ${c} is not in ExitCode`);
      for (const c of [ExitCode.Ok, ExitCode.BadInput, ExitCode.Internal]) assert.ok(listed.includes(c), `${name}: exit ${c} missing`);
      assert.deepEqual(
        listed,
        [...listed].sort((a, b) => a - b),
      );
      const ex = /\nExamples?:\n((?: {2}serverless-mesh .+\n)+)/.exec(text);
      assert.ok(ex, `${name}: no example in\n${text}`);
      // The example runs the command it documents.
      if (commandPath(cmd)) assert.ok(ex[1]!.includes(`serverless-mesh ${commandPath(cmd)}`), ex[1]);
    });
  }

  it('commands that report differences say so; the others do not list exit 1', () => {
    const text = (p: string) => helpOf(commands.find((c) => commandPath(c) === p)!);
    assert.match(text('diff'), /\n {2}1 {2}the cluster differs from the spec\n/);
    assert.match(text('verify'), /\n {2}1 {2}a leak/);
    assert.match(text('check'), /\n {2}1 {2}findings of severity error\n/);
    assert.doesNotMatch(text('render'), /\n {2}1 {2}/);
    assert.doesNotMatch(text('render'), /\n {2}3 {2}/);
    assert.match(text('apply'), /\n {2}3 {2}the cluster/);
  });

  it('the installed CLI prints it too (`render --help`, exit 0)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'render', '--help'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, ExitCode.Ok, r.stderr);
    assert.match(r.stdout, /Exit codes:\n {2}0 {2}success\n/);
    assert.match(r.stdout, /Examples:\n {2}serverless-mesh render -f /);
  });
});
