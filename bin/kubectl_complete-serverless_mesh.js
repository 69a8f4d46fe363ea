#!/usr/bin/env node
// kubectl (≥ 1.26) completes `kubectl serverless-mesh …<Tab>` by running this executable from the
// PATH with the words after the plugin name (the last one is being completed) and reading cobra's
// `__complete` output: one candidate a line, then `:<directive>` (src/cli/completion.ts).
// main() sees the name it runs under (process.argv[1]) and answers as `serverless-mesh __complete WORD…`;
// the single binary does the same when linked under this name.
import './serverless-mesh.js';
