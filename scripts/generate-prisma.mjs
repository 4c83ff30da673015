// Generates the control plane's Prisma clients (SQLite and PostgreSQL variants) without the native
// schema engine: `prisma generate` only checks that the engine binary exists, so we
// point it at the running node executable (see shared PRISMA-OFFLINE notes).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
const schemas = [
  'prisma/sqlite/schema.prisma',
  'prisma/postgresql/schema.prisma',
];

for (const schema of schemas) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', schema], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
}
console.log(`generated ${schemas.length} Prisma clients`);
