#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so the CLI works straight from a clone
// (`npx serverless-mesh`) without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
