// cancelJob: a backup stops and keeps no file; a restore rolls back before its commit and is
// refused from then on. A job running on another instance is reached through the event bus.
import type { ControlClient } from '../../control/control-db.ts';
import { JobFinishedError, NotFoundError, TooLateToCancelError } from '../../core/errors.ts';
import type { JobSignals } from '../job-signals.ts';
import { hasEnded, jobKindOf, type Job, type JobHistory } from './job-history.ts';

/** How long cancel waits for a job running here to end, so that its answer shows it ended. */
const CANCEL_WAIT_MS = 10_000;
/** A restore in these phases has begun its commit (or made it): too late to cancel. */
const COMMITTING_PHASES = ['COMMITTING', 'COMMITTED', 'DONE'];

export class JobCancellation {
  constructor(
    private readonly deps: {
      control: ControlClient;
      history: Pick<JobHistory, 'get'>;
      signals: JobSignals;
    },
  ) {}

  /** Cancels a running or queued job and returns it as it then stands. */
  async cancel(id: string, actor: string | null): Promise<Job> {
    const { history, signals, control } = this.deps;
    const job = await history.get(id);
    if (!job) throw new NotFoundError('job', id);
    if (hasEnded(job)) throw new JobFinishedError(id, job.status);
    if (jobKindOf(job) === 'RESTORE' && !signals.runsHere(id)) {
      const row = await control.restoreJob.findUnique({ where: { id }, select: { phase: true } });
      if (row?.phase && COMMITTING_PHASES.includes(row.phase)) throw new TooLateToCancelError(id);
    }
    await signals.cancel(id, actor, CANCEL_WAIT_MS);
    return (await history.get(id)) ?? job;
  }
}
