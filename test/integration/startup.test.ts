// A wrong setting stops start-up with one line naming the variable, never a stack trace.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LEDGER_DIR, ledgerTarget } from '../helpers/ledger.ts';
import { startProcess, type Exited } from '../helpers/start-process.ts';

let dataDir: string;
let ledger: Awaited<ReturnType<typeof ledgerTarget>>;

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-startup-'));
  ledger = await ledgerTarget();
});

after(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(ledger.dataDir, { recursive: true, force: true });
});

function start(env: Record<string, string>): Promise<Exited> {
  return startProcess({ DATA_DIR: dataDir, PORT: '0', ...ledger.env, ...env });
}

const cases: [string, Record<string, string>][] = [
  ['PORT', { PORT: 'eighty' }],
  ['CONTROL_DATABASE_URL', { CONTROL_DATABASE_URL: 'mysql://root@127.0.0.1/test' }],
  ['CONTROL_DATABASE_URL', { CONTROL_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/no_such_database_here' }],
  ['TARGET_DATABASE_URL', { TARGET_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/unreachable' }],
  ['TARGET_DATABASE_URL', { TARGET_DATABASE_URL: 'file:/nonexistent/folder/app.db' }],
  ['TARGET_SCHEMA', { TARGET_SCHEMA: '/nonexistent/schema.prisma' }],
  ['TARGET_MIGRATIONS', { TARGET_MIGRATIONS: path.join(LEDGER_DIR, 'no-migrations-here') }],
  ['BACKUP_DIR', { BACKUP_DIR: '/dev/null/backups' }],
  ['DATA_DIR', { DATA_DIR: '/etc/hostname/data' }],
  ['TARGET_NAME', { TARGET_NAME: 'my app' }],
  ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }],
  ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:1' }],
];

for (const [variable, env] of cases) {
  test(`${variable}=${Object.values(env)[0]} stops start-up with one line naming it`, async () => {
    const { code, stderr } = await start(env);
    assert.equal(code, 78, stderr);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, not a stack trace:\n${stderr}`);
    assert.match(lines[0]!, new RegExp(`^configuration error: ${variable} `));
  });
}
