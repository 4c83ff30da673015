// The jobs running on this instance, each with the AbortSignal a cancel aborts. A cancel for a
// job running elsewhere travels on the event bus to every instance; the one running it aborts it.
import type { PubSub } from 'graphql-yoga';
import { JobCancelledError, TooLateToCancelError } from '../core/errors.ts';

/** The topics cancels travel on: in process, or through Redis to every instance. */
export type JobTopics = { jobCancel: [request: { jobId: string; actor: string | null }] };
export type JobEvents = PubSub<JobTopics>;

interface Running {
  kind: 'backup' | 'restore';
  controller: AbortController;
  /** Set once a restore begins its commit: from then on a cancel is refused. */
  committing: boolean;
  ended: Promise<void>;
  end(): void;
}

export class JobSignals {
  private readonly running = new Map<string, Running>();
  private listening: AsyncIterator<{ jobId: string; actor: string | null }> | null = null;

  constructor(private readonly events: JobEvents) {}

  /** Starts taking cancels published by other instances. */
  listen(): void {
    const iterator = this.events.subscribe('jobCancel')[Symbol.asyncIterator]();
    this.listening = iterator;
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const job = this.running.get(next.value.jobId);
        if (job && !job.committing) job.controller.abort(new JobCancelledError(job.kind, next.value.actor));
      }
    })().catch(() => {});
  }

  async stop(): Promise<void> {
    await this.listening?.return?.();
    this.listening = null;
  }

  /** Registers a job that starts running here; its signal aborts with a JobCancelledError. */
  track(id: string, kind: 'backup' | 'restore'): AbortSignal {
    let end = () => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    const job: Running = { kind, controller: new AbortController(), committing: false, ended, end };
    this.running.set(id, job);
    return job.controller.signal;
  }

  /** The job ended here, whatever its outcome. */
  untrack(id: string): void {
    this.running.get(id)?.end();
    this.running.delete(id);
  }

  /** From now on the job cannot be cancelled; throws the cancel's reason if one came first. */
  beginCommit(id: string): void {
    const job = this.running.get(id);
    if (!job) return;
    job.controller.signal.throwIfAborted();
    job.committing = true;
  }

  /** Whether the job runs on this instance. */
  runsHere(id: string): boolean {
    return this.running.has(id);
  }

  /**
   * Cancels the job: here at once (resolving once it has ended, or after `waitMs`), else by
   * a message on the bus to the instance that runs it. TooLateToCancelError once it commits.
   */
  async cancel(id: string, actor: string | null, waitMs: number): Promise<void> {
    const job = this.running.get(id);
    if (!job) {
      await this.events.publish('jobCancel', { jobId: id, actor });
      return;
    }
    if (job.committing) throw new TooLateToCancelError(id);
    job.controller.abort(new JobCancelledError(job.kind, actor));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.ended, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }
}
