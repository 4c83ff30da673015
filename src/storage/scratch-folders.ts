// Each instance stages in a scratch folder of its own, `$DATA_DIR/tmp/<instance id>`, so two
// instances sharing a data folder never delete each other's work. The folder's modification
// time is its owner's heartbeat; a folder is removed only once its owner is surely gone.
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { instanceGone, isInstanceId, registerInstance, retireInstance } from '../util/instance-id.ts';

/** The owner touches its folder this often, and looks for abandoned ones... */
const HEARTBEAT_MS = 5 * 60 * 1000;
/** ...and a folder untouched this long belongs to an instance that is gone, on any host. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

export interface ScratchFolder {
  /** Scratch folders of instances that are gone, removed at start-up. */
  removed: string[];
  /** Stops the heartbeat; the folder is left for the next start-up to remove. */
  close(): void;
}

/**
 * Creates the instance's folder, removes the abandoned ones beside it (a dead process on this
 * host at once; any other after an hour without a heartbeat; entries of a version that shared
 * one folder likewise after an hour), and keeps the instance's own alive until `close`.
 */
export async function openScratchFolder(scratchDir: string, instanceId: string): Promise<ScratchFolder> {
  registerInstance(instanceId);
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const removed = await removeAbandoned(scratchDir);
  const heartbeat = setInterval(() => {
    const now = new Date();
    void mkdir(scratchDir, { recursive: true, mode: 0o700 })
      .then(() => utimes(scratchDir, now, now))
      .then(() => removeAbandoned(scratchDir))
      .catch(() => {});
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    removed,
    close() {
      clearInterval(heartbeat);
      retireInstance(instanceId);
    },
  };
}

async function removeAbandoned(scratchDir: string): Promise<string[]> {
  const root = path.dirname(scratchDir);
  const removed: string[] = [];
  for (const name of await readdir(root)) {
    const full = path.join(root, name);
    if (full === scratchDir) continue;
    const gone = isInstanceId(name) ? instanceGone(name) : null;
    const abandoned = gone ?? Date.now() - ((await stat(full).catch(() => null))?.mtimeMs ?? 0) > ABANDONED_AFTER_MS;
    if (abandoned) {
      await rm(full, { recursive: true, force: true });
      removed.push(full);
    }
  }
  return removed;
}
