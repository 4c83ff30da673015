// Backup & Restore: create, upload, and the available backups with download, verify, restore
// and delete. A restore, once started, is followed on its own page.
import { useEffect, useState } from 'preact/hooks';
import { BackupList } from '../components/BackupList.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { CreateBackupForm } from '../components/CreateBackupForm.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { RestoreDialog } from '../components/RestoreDialog.tsx';
import { SystemStatus } from '../components/SystemStatus.tsx';
import { UploadZone } from '../components/UploadZone.tsx';
import { VerifyDialog } from '../components/VerifyDialog.tsx';
import {
  ConsoleBackupsDocument,
  ConsoleDeleteBackupDocument,
  ConsoleSystemDocument,
  type ConsoleBackupFragment,
  type ConsoleBackupsQuery,
  type ConsoleSystemQuery,
  type Role,
} from '../generated/graphql.ts';
import { request } from '../lib/request.ts';
import { navigate } from '../lib/router.ts';

const PAGE_SIZE = 20;

type Open = { kind: 'restore' | 'verify' | 'delete'; backup: ConsoleBackupFragment } | null;

export function BackupsPage({ role }: { role: Role }) {
  const admin = role === 'ADMIN';
  const [system, setSystem] = useState<ConsoleSystemQuery['system'] | null>(null);
  const [page, setPage] = useState<ConsoleBackupsQuery['backups'] | null>(null);
  /** The cursors of the pages before this one (the first page's is null). */
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [open, setOpen] = useState<Open>(null);

  const load = async (after: string | null) => {
    try {
      const [{ backups }, status] = await Promise.all([
        request(ConsoleBackupsDocument, { first: PAGE_SIZE, after }),
        request(ConsoleSystemDocument, {}),
      ]);
      setPage(backups);
      setSystem(status.system);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const reload = () => load(cursors.at(-1) ?? null);
  useEffect(() => void load(null), []);
  useEffect(() => {
    // The console's own measure of how soon the list shows (docs: README, "Web console").
    if (page && performance.getEntriesByName('backups-list-rendered').length === 0) performance.mark('backups-list-rendered');
  }, [page]);

  const changed = (message: string) => {
    setNotice(message);
    setCursors([null]);
    void load(null);
  };
  const pageStart = (cursors.length - 1) * PAGE_SIZE;

  return (
    <>
      <h1 tabIndex={-1}>Backups</h1>
      {system && <SystemStatus system={system} />}
      <p class="notice" role="status">
        {notice}
      </p>
      {admin && (
        <div class="two-columns">
          <CreateBackupForm onCreated={(_backup, message) => changed(message)} />
          <UploadZone onUploaded={(_backup, message) => changed(message)} />
        </div>
      )}
      <section aria-labelledby="available-title">
        <h2 id="available-title">Available backups</h2>
        <ErrorText message={error} />
        {page && (
          <>
            <BackupList
              backups={page.edges.map((edge) => edge.node)}
              manage={admin}
              restore={admin}
              onRestore={(backup) => setOpen({ kind: 'restore', backup })}
              onVerify={(backup) => setOpen({ kind: 'verify', backup })}
              onDelete={(backup) => setOpen({ kind: 'delete', backup })}
            />
            <nav class="pager" aria-label="Pages of backups">
              <span>{page.totalCount === 0 ? '' : `${pageStart + 1}–${pageStart + page.edges.length} of ${page.totalCount}`}</span>
              <button
                type="button"
                disabled={cursors.length < 2}
                onClick={() => {
                  const previous = cursors.slice(0, -1);
                  setCursors(previous);
                  void load(previous.at(-1) ?? null);
                }}
              >
                Newer
              </button>
              <button
                type="button"
                disabled={!page.pageInfo.hasNextPage}
                onClick={() => {
                  const next = page.pageInfo.endCursor;
                  setCursors([...cursors, next]);
                  void load(next);
                }}
              >
                Older
              </button>
            </nav>
          </>
        )}
      </section>
      {open?.kind === 'restore' && (
        <RestoreDialog
          backup={open.backup}
          currentSchemaVersion={system?.schemaVersion ?? null}
          onClose={() => setOpen(null)}
          onStarted={(jobId) => navigate(`/restores/${encodeURIComponent(jobId)}`)}
        />
      )}
      {open?.kind === 'verify' && <VerifyDialog backup={open.backup} onClose={() => setOpen(null)} />}
      {open?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete this backup?"
          confirmLabel="Delete"
          onClose={() => setOpen(null)}
          onConfirm={async () => {
            const { deleteBackup: result } = await request(ConsoleDeleteBackupDocument, { input: { backupId: open.backup.id } });
            if (result.__typename !== 'DeleteBackupPayload') return result.message;
            setNotice(`Deleted ${open.backup.fileName}.`);
            void reload();
            return null;
          }}
        >
          <p>
            <span class="file-name">{open.backup.fileName}</span> will be removed from the backup folder. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
