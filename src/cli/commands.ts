import type { Command } from 'commander';
import { register as registerRender } from './render-commands.ts';
import { register as registerAuthz } from './authz-commands.ts';
import { register as registerCluster } from './cluster-commands.ts';
import { register as registerMigrate } from './migrate-commands.ts';
import { register as registerCheck } from './check-commands.ts';
import { register as registerReport } from './report-commands.ts';
import { register as registerCompletion } from './completion-commands.ts';
import { register as registerController } from './controller-commands.ts';

/**
 * One line per capability: each module exports `register(program)` and adds its own subcommands.
 * Keep this list short and ordered as in `serverless-mesh --help`.
 */
export function registerCommands(program: Command): void {
  registerRender(program);
  registerCheck(program);
  registerAuthz(program);
  registerReport(program);
  registerCluster(program);
  registerMigrate(program);
  registerCompletion(program);
  registerController(program);
}
