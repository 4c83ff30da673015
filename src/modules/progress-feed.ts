// A job's progress (a backup's or a restore's) as one stream: its state now, then each event
// from the bus until it ends. A job running elsewhere is also looked up in the database now and
// then, so a missed last event cannot leave a watcher waiting.

/** How often the database is asked whether a job watched from another instance has ended. */
export const END_POLL_MS = 1000;

/** Where a job stands, a backup's or a restore's alike: SUCCEEDED and FAILED are its end. */
export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** What every progress event carries: its job, whose status says whether it has ended. */
export interface JobProgress {
  job: { status: JobStatus };
}

/** Whether the job has ended: the last event a subscriber gets. */
export function isFinal(progress: JobProgress): boolean {
  return progress.job.status === 'SUCCEEDED' || progress.job.status === 'FAILED';
}

export interface ProgressSource<P extends JobProgress> {
  /** The job's events from the event bus. */
  events: AsyncIterable<P>;
  /** The state now, or null for an unknown job. */
  current(): Promise<P | null>;
  /** The final state when the job has ended elsewhere; null while it runs (or runs here). */
  ended(): Promise<P | null>;
}

export async function followProgress<P extends JobProgress>(source: ProgressSource<P>): Promise<AsyncGenerator<P> | null> {
  const iterator = source.events[Symbol.asyncIterator]();
  // Listening starts before the current state is read, so no event falls in between.
  let pending = iterator.next();
  const current = await source.current();
  if (!current) {
    await iterator.return?.();
    return null;
  }
  return (async function* () {
    try {
      yield current;
      if (isFinal(current)) return;
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const poll = new Promise<'poll'>((resolve) => (timer = setTimeout(() => resolve('poll'), END_POLL_MS)));
        const next = await Promise.race([pending, poll]);
        clearTimeout(timer);
        if (next === 'poll') {
          const end = await source.ended();
          if (end && isFinal(end)) {
            yield end;
            return;
          }
          continue;
        }
        if (next.done) return;
        pending = iterator.next();
        yield next.value;
        if (isFinal(next.value)) return;
      }
    } finally {
      await iterator.return?.();
    }
  })();
}
