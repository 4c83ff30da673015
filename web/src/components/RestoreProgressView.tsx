// A restore as it happens, over graphql-ws: the phase, the current table, tables and rows done,
// the safety backup it made, and how it ended (with what to do when it failed).
import { useEffect, useState } from 'preact/hooks';
import { ConsoleRestoreProgressDocument, type ConsoleRestoreProgressSubscription } from '../generated/graphql.ts';
import { PHASE_LABELS, formatDate } from '../lib/format.ts';
import { subscribe } from '../lib/subscribe.ts';

type Progress = ConsoleRestoreProgressSubscription['restoreProgress'];

interface RestoreProgressViewProps {
  jobId: string;
  setupCode?: string | null;
  /** Whether the safety backup can be downloaded from here (admins). */
  canDownload?: boolean;
  onFinished?(progress: Progress): void;
}

export function RestoreProgressView({ jobId, setupCode = null, canDownload = false, onFinished }: RestoreProgressViewProps) {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [connectionError, setConnectionError] = useState<string | null>(null);
  useEffect(() => {
    setProgress(null);
    setConnectionError(null);
    return subscribe(
      ConsoleRestoreProgressDocument,
      { jobId },
      {
        next: (data) => {
          setProgress(data.restoreProgress);
          const { status } = data.restoreProgress.job;
          if (status === 'SUCCEEDED' || status === 'FAILED') onFinished?.(data.restoreProgress);
        },
        error: setConnectionError,
        complete: () => {},
      },
      setupCode,
    );
  }, [jobId, setupCode]);

  if (!progress) {
    return (
      <div class="restore-progress" aria-busy="true">
        {connectionError ? <p class="alert refused">Live progress is unavailable: {connectionError}</p> : <p>Connecting…</p>}
      </div>
    );
  }
  const { job } = progress;
  const finished = job.status === 'SUCCEEDED' || job.status === 'FAILED';
  return (
    <div class="restore-progress" data-status={job.status}>
      {job.backup && (
        <p>
          Restoring <span class="file-name">{job.backup.fileName}</span>, taken {formatDate(job.backup.createdAt)}.
        </p>
      )}
      <dl class="facts">
        <dt>Phase</dt>
        <dd role="status" data-testid="restore-phase">
          {PHASE_LABELS[progress.phase]}
        </dd>
        <dt>Current table</dt>
        <dd>{progress.table ?? '—'}</dd>
        <dt>Started</dt>
        <dd>{formatDate(job.startedAt)}</dd>
      </dl>
      <div class="progress-line">
        <label for={`tables-${jobId}`}>
          Tables: {progress.tablesDone} of {progress.tablesTotal}
        </label>
        <progress id={`tables-${jobId}`} value={progress.tablesDone} max={Math.max(progress.tablesTotal, 1)} />
      </div>
      <div class="progress-line">
        <label for={`rows-${jobId}`}>
          Rows: {progress.rowsDone.toLocaleString()} of {progress.rowsTotal.toLocaleString()}
        </label>
        <progress id={`rows-${jobId}`} value={progress.rowsDone} max={Math.max(progress.rowsTotal, 1)} />
      </div>
      {progress.message && <p class="hint">{progress.message}</p>}
      {job.preRestoreBackup && (
        <p>
          Safety backup of the data before this restore: <span class="file-name">{job.preRestoreBackup.fileName}</span>
          {canDownload && (
            <>
              {' '}
              (<a href={job.preRestoreBackup.downloadUrl}>download</a>)
            </>
          )}
        </p>
      )}
      {finished && <Outcome progress={progress} />}
      {connectionError && !finished && (
        <p class="alert refused">
          Live progress was interrupted: {connectionError}. The restore goes on on the server; reload the page to follow it again.
        </p>
      )}
    </div>
  );
}

function Outcome({ progress }: { progress: Progress }) {
  const { job } = progress;
  if (job.status === 'SUCCEEDED') {
    return (
      <div class="alert success" role="alert" data-testid="restore-outcome">
        <strong>Restore finished</strong> {formatDate(job.finishedAt)}: the app's data is now the backup's. Restart the app if it keeps data
        in memory.
      </div>
    );
  }
  return (
    <div class="alert refused" role="alert" data-testid="restore-outcome">
      <p>
        <strong>The restore failed</strong> {formatDate(job.finishedAt)}: {job.error ?? 'no reason was given'}
      </p>
      <p>
        A restore is all or nothing: the app's data is as it was before. Fix what the message names (a passphrase, free space, the app's
        version) and restore again. If the data looks wrong anyway, restore the safety backup
        {job.preRestoreBackup ? ` ${job.preRestoreBackup.fileName}` : ''}. The server's log has the details.
      </p>
    </div>
  );
}
