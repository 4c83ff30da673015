// The restore gate on a real control database: a restore refuses another at once, but the
// brief hold that settles a dead instance's job makes requests wait for it, not fail (CI saw
// a restore refused, naming the crashed instance's job, as the orphan watch settled it).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openControlDatabase, type ControlDatabase } from '../../src/control/control-db.ts';
import { RestoreInProgressError } from '../../src/core/errors.ts';
import { RestoreGate } from '../../src/modules/restore-gate.ts';
import { RestoreLease } from '../../src/modules/restore-lease.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { newInstanceId, registerInstance, retireInstance } from '../../src/util/instance-id.ts';

let dir: string;
let control: ControlDatabase;
const instance = newInstanceId();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-gate-'));
  control = await openControlDatabase(parseDatabaseUrl(`file:${path.join(dir, 'control.db')}`));
  registerInstance(instance);
});

after(async () => {
  retireInstance(instance);
  await control.close();
  await rm(dir, { recursive: true, force: true });
});

/** Whether the promise is still pending after the event loop has had a few turns. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  const unsettled = Symbol('pending');
  const raced = await Promise.race([
    promise.then(
      () => null,
      () => null,
    ),
    new Promise((resolve) => setTimeout(() => resolve(unsettled), 50)),
  ]);
  return raced === unsettled;
}

test('a running restore refuses another restore and a backup at once, naming its job', async () => {
  const gate = new RestoreGate(new RestoreLease({ control: control.client, instance }));
  await gate.acquire('running');
  try {
    await assert.rejects(gate.acquire('second'), (error) => error instanceof RestoreInProgressError && /running/.test(error.message));
    await assert.rejects(gate.assertFree(), RestoreInProgressError);
  } finally {
    await gate.release('running');
  }
  await gate.assertFree();
});

test('while a dead instance job is settled, a restore and a backup wait for it, then go ahead', async () => {
  const gate = new RestoreGate(new RestoreLease({ control: control.client, instance }));
  await gate.acquire('orphan', { settling: true });
  const restore = gate.acquire('restore');
  const backupCheck = gate.assertFree().then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(await pending(restore), 'the restore waits for the settlement');
  assert.ok(await pending(backupCheck), 'so does the backup');
  await gate.release('orphan');
  await restore;
  assert.equal(gate.holder, 'restore');
  // The backup is answered once the settlement ends: never refused for the dead instance's job.
  const answer = await backupCheck;
  assert.ok(answer === null || (answer instanceof RestoreInProgressError && !/orphan/.test(answer.message)), String(answer));
  await gate.release('restore');
});

test('another instance waits for a settlement it sees in the lease, but is refused by a restore at once', async () => {
  const here = new RestoreGate(new RestoreLease({ control: control.client, instance }));
  const other = new RestoreGate(new RestoreLease({ control: control.client, instance: newInstanceId() }));
  await here.acquire('running');
  try {
    await assert.rejects(other.acquire('elsewhere'), (error) => error instanceof RestoreInProgressError && /running/.test(error.message));
    await assert.rejects(other.assertFree(), RestoreInProgressError);
  } finally {
    await here.release('running');
  }
  await here.acquire('orphan', { settling: true });
  const backupCheck = other.assertFree().then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(await pending(backupCheck), 'a backup on the other instance waits for the settlement');
  const restore = other.acquire('elsewhere');
  assert.ok(await pending(restore), 'so does a restore there');
  // A second settlement of the same job elsewhere gives way at once: this one settles it.
  await assert.rejects(
    new RestoreGate(new RestoreLease({ control: control.client, instance })).acquire('orphan', { settling: true }),
    RestoreInProgressError,
  );
  await here.release('orphan');
  await restore;
  assert.equal(other.holder, 'elsewhere');
  const answer = await backupCheck;
  assert.ok(answer === null || (answer instanceof RestoreInProgressError && !/orphan/.test(answer.message)), String(answer));
  await other.release('elsewhere');
});
