// Scheduled backups: how often and when, how many are kept, whether they include media data,
// where they go, and the saved passphrase they are encrypted with; the next and the last run.
import { useEffect, useState } from 'preact/hooks';
import { Checkbox } from '../components/Checkbox.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Field } from '../components/Field.tsx';
import { SelectField } from '../components/SelectField.tsx';
import {
  ConsoleSettingsDocument,
  ConsoleUpdateSettingsDocument,
  type BackupFrequency,
  type BackupSettingsInput,
  type ConsoleSettingsFragment,
  type Role,
} from '../generated/graphql.ts';
import { formatDate } from '../lib/format.ts';
import { request } from '../lib/request.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';

const FREQUENCIES: [BackupFrequency, string][] = [
  ['OFF', 'Off: manual backups only'],
  ['EVERY_6_HOURS', 'Every 6 hours'],
  ['EVERY_12_HOURS', 'Every 12 hours'],
  ['DAILY', 'Daily'],
  ['WEEKLY', 'Weekly'],
  ['MONTHLY', 'Monthly'],
  ['CUSTOM', 'Custom (cron expression)'],
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The form's fields, as typed. */
interface Draft {
  frequency: BackupFrequency;
  cron: string;
  timeOfDay: string;
  dayOfWeek: number;
  dayOfMonth: string;
  timeZone: string;
  keep: string;
  includeMedia: boolean;
  backupDir: string;
  passphrase: string;
}

function draftOf(settings: ConsoleSettingsFragment): Draft {
  return {
    frequency: settings.frequency,
    cron: settings.cron ?? '',
    timeOfDay: settings.timeOfDay,
    dayOfWeek: settings.dayOfWeek,
    dayOfMonth: String(settings.dayOfMonth),
    timeZone: settings.timeZone,
    keep: String(settings.keep),
    includeMedia: settings.includeMedia,
    backupDir: settings.backupDir,
    passphrase: '',
  };
}

export function SchedulePage({ role }: { role: Role }) {
  const admin = role === 'ADMIN';
  const [settings, setSettings] = useState<ConsoleSettingsFragment | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<TypedError | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    request(ConsoleSettingsDocument, {})
      .then(({ backupSettings }) => {
        setSettings(backupSettings);
        setDraft(draftOf(backupSettings));
      })
      .catch((e: Error) => setLoadError(e.message));
  }, []);

  const save = async (input: BackupSettingsInput, done: string) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const { updateBackupSettings: result } = await request(ConsoleUpdateSettingsDocument, { input });
      if (result.__typename === 'UpdateBackupSettingsPayload') {
        setSettings(result.settings);
        setDraft(draftOf(result.settings));
        setNotice(done);
      } else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    } finally {
      setBusy(false);
    }
  };

  if (!settings || !draft) {
    return (
      <>
        <h1 tabIndex={-1}>Schedule</h1>
        {loadError ? <ErrorText message={loadError} /> : <p>Loading…</p>}
      </>
    );
  }
  const set =
    <K extends keyof Draft>(key: K) =>
    (value: Draft[K]) =>
      setDraft({ ...draft, [key]: value });
  const submit = (event: Event) => {
    event.preventDefault();
    const input: BackupSettingsInput = {
      frequency: draft.frequency,
      timeOfDay: draft.timeOfDay,
      dayOfWeek: draft.dayOfWeek,
      dayOfMonth: Number(draft.dayOfMonth),
      timeZone: draft.timeZone.trim(),
      keep: Number(draft.keep),
      includeMedia: draft.includeMedia,
    };
    if (draft.frequency === 'CUSTOM') input.cron = draft.cron.trim();
    if (!settings.backupDirFixed && draft.backupDir !== settings.backupDir) input.backupDir = draft.backupDir.trim();
    if (draft.passphrase) input.passphrase = draft.passphrase;
    void save(input, 'Settings saved.');
  };
  const errors = {
    frequency: messageFor(error, 'frequency'),
    cron: messageFor(error, 'cron'),
    timeOfDay: messageFor(error, 'timeOfDay'),
    dayOfWeek: messageFor(error, 'dayOfWeek'),
    dayOfMonth: messageFor(error, 'dayOfMonth'),
    timeZone: messageFor(error, 'timeZone'),
    keep: messageFor(error, 'keep'),
    backupDir: messageFor(error, 'backupDir'),
    passphrase: messageFor(error, 'passphrase'),
  };
  const lastRun = settings.lastRun;

  return (
    <>
      <h1 tabIndex={-1}>Schedule</h1>
      <section class="status" aria-label="Runs">
        <dl class="inline-facts">
          <div>
            <dt>Next run</dt>
            <dd data-testid="next-run">{settings.frequency === 'OFF' ? 'none: the schedule is off' : formatDate(settings.nextRunAt)}</dd>
          </div>
          <div>
            <dt>Last run</dt>
            <dd>
              {lastRun ? (
                <>
                  {formatDate(lastRun.at)}: {lastRun.status.toLowerCase()}
                  {lastRun.fileName && <span class="file-name"> {lastRun.fileName}</span>}
                </>
              ) : (
                'never'
              )}
            </dd>
          </div>
        </dl>
        {lastRun?.error && (
          <p class="alert refused">
            The last scheduled backup {lastRun.status === 'SKIPPED' ? 'was skipped' : 'failed'}: {lastRun.error}
          </p>
        )}
      </section>
      <form class="card settings" onSubmit={submit}>
        <fieldset disabled={!admin || busy}>
          <legend>When</legend>
          <SelectField
            label="Frequency"
            value={draft.frequency}
            error={errors.frequency}
            onValue={(v) => set('frequency')(v as BackupFrequency)}
          >
            {FREQUENCIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          {draft.frequency === 'CUSTOM' && (
            <Field
              label="Cron expression"
              value={draft.cron}
              onValue={set('cron')}
              hint="5 fields, or 6 with seconds first, e.g. 30 2 * * 1-5."
              error={errors.cron}
            />
          )}
          {draft.frequency !== 'OFF' && draft.frequency !== 'CUSTOM' && (
            <Field
              label="Time"
              type="time"
              value={draft.timeOfDay}
              onValue={set('timeOfDay')}
              hint={draft.frequency.startsWith('EVERY') ? 'The runs are counted from this time.' : undefined}
              error={errors.timeOfDay}
            />
          )}
          {draft.frequency === 'WEEKLY' && (
            <SelectField
              label="Weekday"
              value={String(draft.dayOfWeek)}
              error={errors.dayOfWeek}
              onValue={(v) => set('dayOfWeek')(Number(v))}
            >
              {WEEKDAYS.map((day, index) => (
                <option key={day} value={String(index)}>
                  {day}
                </option>
              ))}
            </SelectField>
          )}
          {draft.frequency === 'MONTHLY' && (
            <Field
              label="Day of the month"
              type="number"
              min={1}
              max={28}
              value={draft.dayOfMonth}
              onValue={set('dayOfMonth')}
              error={errors.dayOfMonth}
            />
          )}
          <Field
            label="Time zone"
            value={draft.timeZone}
            onValue={set('timeZone')}
            list="time-zones"
            hint="An IANA name such as Europe/Paris; empty: the server's."
            error={errors.timeZone}
          />
          <datalist id="time-zones">
            {Intl.supportedValuesOf('timeZone').map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </fieldset>
        <fieldset disabled={!admin || busy}>
          <legend>What and where</legend>
          <Field
            label="Keep"
            type="number"
            min={1}
            value={draft.keep}
            onValue={set('keep')}
            hint="Scheduled backups kept; older ones are deleted. Manual, uploaded, pre-restore and pre-upgrade backups never expire."
            error={errors.keep}
          />
          <Checkbox
            label="Include media data"
            checked={draft.includeMedia}
            onChecked={set('includeMedia')}
            hint="Scheduled backups are config only unless this is checked."
          />
          <Field
            label="Location"
            value={draft.backupDir}
            onValue={set('backupDir')}
            disabled={settings.backupDirFixed}
            hint={settings.backupDirFixed ? 'Set by BACKUP_DIR: change it there.' : 'An absolute path, e.g. a NAS mount.'}
            error={errors.backupDir}
          />
        </fieldset>
        <fieldset disabled={!admin || busy}>
          <legend>Encryption</legend>
          <p data-testid="passphrase-state">
            {settings.passphraseSet
              ? 'Scheduled backups are encrypted with the saved passphrase.'
              : 'No passphrase is saved: scheduled backups are not encrypted.'}
          </p>
          <Field
            label={settings.passphraseSet ? 'New passphrase' : 'Passphrase'}
            type="password"
            autocomplete="new-password"
            value={draft.passphrase}
            onValue={set('passphrase')}
            hint="At least 8 characters; keep it elsewhere too: without it the backups cannot be restored."
            error={errors.passphrase}
          />
          {settings.passphraseSet && admin && (
            <button type="button" onClick={() => void save({ passphrase: '' }, 'The saved passphrase is cleared.')}>
              Clear the saved passphrase
            </button>
          )}
        </fieldset>
        <ErrorText message={messageBesides(error, Object.values(errors))} />
        <p class="notice" role="status">
          {notice}
        </p>
        {admin ? (
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save settings'}
            </button>
          </div>
        ) : (
          <p class="hint">Only an admin can change the schedule.</p>
        )}
      </form>
    </>
  );
}
