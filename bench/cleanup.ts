// Clean-up: everything temporary is registered the moment it exists and removed at the
// end (or as soon as it is no longer needed), whether the run succeeds, fails or is stopped.
import { firstLine } from './bench-error.ts';

const cleanups = new Map<number, () => Promise<void>>();
let nextCleanup = 0;

/** Registers `fn` for the end; the function returned runs it sooner (once, whichever comes first). */
export function onCleanup(fn: () => Promise<void>): () => Promise<void> {
  const id = nextCleanup++;
  cleanups.set(id, fn);
  return async () => {
    if (!cleanups.delete(id)) return;
    await fn();
  };
}

/** A mark for `cleanupFrom`: the clean-ups registered from now on. */
export function cleanupMark(): number {
  return nextCleanup;
}

export async function cleanupAll(): Promise<void> {
  await cleanupFrom(0);
}

/** Runs the clean-ups registered since `mark`, newest first. */
export async function cleanupFrom(mark: number): Promise<void> {
  for (const id of [...cleanups.keys()].filter((id) => id >= mark).reverse()) {
    const fn = cleanups.get(id)!;
    cleanups.delete(id);
    await fn().catch((error: unknown) => console.error(`bench: clean-up: ${firstLine(error)}`));
  }
}
