#!/usr/bin/env node
// `npx backup-control-plane`: the command-line tool (src/cli/). It runs the TypeScript sources
// through tsx, a dependency, so a fresh clone needs `npm install` only, never a build first.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/run-cli.ts');
process.exit(await runCli(process.argv));
