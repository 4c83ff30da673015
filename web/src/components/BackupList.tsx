// The available backups, newest first: what each holds and whether it can be restored here,
// with the actions an admin may take on it. A viewer sees no action that changes anything.
import type { ConsoleBackupFragment } from '../generated/graphql.ts';
import { KIND_LABELS, formatBytes, formatDate } from '../lib/format.ts';

interface BackupListProps {
  backups: ConsoleBackupFragment[];
  /** Download, verify and delete: admins only. */
  manage: boolean;
  /** Restore: admins, and the setup code on a first run. */
  restore: boolean;
  onRestore(backup: ConsoleBackupFragment): void;
  onVerify?(backup: ConsoleBackupFragment): void;
  onDelete?(backup: ConsoleBackupFragment): void;
}

export function BackupList({ backups, manage, restore, onRestore, onVerify, onDelete }: BackupListProps) {
  if (backups.length === 0) return <p class="empty">No backups yet.</p>;
  return (
    <table class="backups">
      <caption class="visually-hidden">Available backups, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Kind</th>
          <th scope="col">Size</th>
          <th scope="col">App version</th>
          <th scope="col">Schema version</th>
          <th scope="col">Contents</th>
          <th scope="col">Restore here</th>
          {(manage || restore) && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {backups.map((backup) => (
          <tr key={backup.id} data-backup-id={backup.id}>
            <th scope="row" data-label="Date">
              <span class="date">{formatDate(backup.createdAt)}</span>
              <span class="file-name">{backup.fileName}</span>
              {backup.note && <span class="note">{backup.note}</span>}
            </th>
            <td data-label="Kind" class="nowrap">
              {KIND_LABELS[backup.kind]}
            </td>
            <td data-label="Size" class="nowrap">
              {formatBytes(backup.sizeBytes)}
            </td>
            <td data-label="App version">{backup.appVersion ?? '—'}</td>
            <td data-label="Schema version" class="schema">
              {breakable(backup.schemaVersion)}
            </td>
            <td data-label="Contents">
              <span class="badges">
                {backup.encrypted && <span class="badge encrypted">Encrypted</span>}
                {backup.includesMedia === true && <span class="badge media">Media</span>}
                {backup.includesMedia === false && <span class="badge">Config only</span>}
              </span>
            </td>
            <td data-label="Restore here">
              {backup.restorable.ok ? <span class="badge ok">Restorable</span> : <span class="badge refused">Cannot restore here</span>}
              {backup.restorable.reason && <span class="reason">{backup.restorable.reason}</span>}
            </td>
            {(manage || restore) && (
              <td data-label="Actions">
                <div class="row-actions">
                  {manage && (
                    <a class="button" href={backup.downloadUrl} download={backup.fileName} aria-label={`Download ${backup.fileName}`}>
                      Download
                    </a>
                  )}
                  {manage && (
                    <button type="button" onClick={() => onVerify?.(backup)} aria-label={`Verify ${backup.fileName}`}>
                      Verify
                    </button>
                  )}
                  {restore && (
                    <button type="button" onClick={() => onRestore(backup)} aria-label={`Restore ${backup.fileName}`}>
                      Restore
                    </button>
                  )}
                  {manage && (
                    <button type="button" class="danger" onClick={() => onDelete?.(backup)} aria-label={`Delete ${backup.fileName}`}>
                      Delete
                    </button>
                  )}
                </div>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A migration name (`20261101000000_init`) may wrap after its timestamp only. */
function breakable(schemaVersion: string | null) {
  if (!schemaVersion) return '—';
  const cut = schemaVersion.indexOf('_') + 1;
  if (cut === 0) return schemaVersion;
  return (
    <>
      {schemaVersion.slice(0, cut)}
      <wbr />
      {schemaVersion.slice(cut)}
    </>
  );
}
