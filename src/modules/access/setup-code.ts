// The first-run setup code: made when the control database has no account, kept as a hash
// there (so every instance sharing it accepts the code) and in $DATA_DIR/setup-code (0600).
import { rename, rm, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ControlClient } from '../../control/control-db.ts';
import { newSetupCode, normalizeSetupCode, secretHash } from './tokens.ts';

export const SETUP_CODE_FILE = 'setup-code';

/**
 * The code to print when there is no account, or null. A code already in the file and the
 * database is kept, so a restart does not invalidate the one the owner is copying.
 */
export async function ensureSetupCode(control: ControlClient, dataDir: string): Promise<string | null> {
  const file = path.join(dataDir, SETUP_CODE_FILE);
  if ((await control.account.count()) > 0) {
    await rm(file, { force: true });
    return null;
  }
  const saved = await readFile(file, 'utf8').then(normalizeSetupCode, () => null);
  const row = await control.setupCode.findUnique({ where: { id: 1 } });
  if (saved && row?.codeHash === secretHash(saved)) return saved;
  const code = newSetupCode();
  await control.setupCode.upsert({
    where: { id: 1 },
    create: { id: 1, codeHash: secretHash(code) },
    update: { codeHash: secretHash(code) },
  });
  await mkdir(dataDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${code}\n`, { mode: 0o600 });
  await rename(temporary, file);
  return code;
}

/** Whether `code` is the current setup code (there is one only while no account exists). */
export async function isSetupCode(control: ControlClient, code: string): Promise<boolean> {
  const row = await control.setupCode.findUnique({ where: { id: 1 } });
  return row !== null && row.codeHash === secretHash(normalizeSetupCode(code));
}

export async function removeSetupCodeFile(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, SETUP_CODE_FILE), { force: true });
}
