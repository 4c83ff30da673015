// Names a running instance `<host>~<pid>~<tag>`, and tells from a name whether its owner is
// surely gone: only a process on this host can be looked up, and a pid can be reused.
import { randomBytes } from 'node:crypto';
import os from 'node:os';

const INSTANCE_PATTERN = /^([^~/\\]+)~(\d+)~([0-9a-f]+)$/;
/** Instances alive in this process: tests run several apps in one, and a container's pid 1 is every start's. */
const liveHere = new Set<string>();

/** A new name for an instance of this process: host, pid, and a random tag that tells restarts and in-process apps apart. */
export function newInstanceId(): string {
  return `${os.hostname()}~${process.pid}~${randomBytes(4).toString('hex')}`;
}

/** Marks the instance as running in this process until `retireInstance`. */
export function registerInstance(id: string): void {
  liveHere.add(id);
}

export function retireInstance(id: string): void {
  liveHere.delete(id);
}

/** Whether `name` is an instance name at all. */
export function isInstanceId(name: string): boolean {
  return INSTANCE_PATTERN.test(name);
}

/**
 * True when the instance is surely gone: of this host, and its process is dead, or it is
 * this process's pid under a tag this process never registered (a previous start that had
 * the same pid, as in a container). False when it is surely alive here; null for another host.
 */
export function instanceGone(id: string): boolean | null {
  const match = INSTANCE_PATTERN.exec(id);
  if (!match || match[1] !== os.hostname()) return null;
  const pid = Number(match[2]);
  if (pid === process.pid) return !liveHere.has(id);
  return !isProcessAlive(pid);
}

/** Whether a process with this pid runs on this host (EPERM: it does, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
