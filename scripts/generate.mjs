// Run by `npm install`: the control plane's Prisma clients and, with the dev tools, the typed
// GraphQL documents. `prisma generate` checks that an engine binary exists, so it is pointed at
// node itself (see the shared PRISMA-OFFLINE notes).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const run = (args, env = {}) =>
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });

const schemas = ['prisma/sqlite/schema.prisma', 'prisma/postgresql/schema.prisma'];
for (const schema of schemas) {
  run([require.resolve('prisma/build/index.js'), 'generate', '--schema', schema], {
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  });
}
console.log(`generated ${schemas.length} Prisma clients`);

const codegenCli = `${root}node_modules/@graphql-codegen/cli/cjs/bin.js`;
if (existsSync(codegenCli)) {
  run([codegenCli, '--config', 'codegen.ts']);
  console.log('generated typed GraphQL documents');
}
