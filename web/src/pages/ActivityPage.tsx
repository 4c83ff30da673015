// The audit log: every change and sign-in attempt, newest first.
import { useEffect, useState } from 'preact/hooks';
import { ErrorText } from '../components/ErrorText.tsx';
import { ConsoleAuditLogDocument, type ConsoleAuditLogQuery } from '../generated/graphql.ts';
import { formatDate } from '../lib/format.ts';
import { request } from '../lib/request.ts';

type AuditEvent = ConsoleAuditLogQuery['auditLog']['edges'][number]['node'];

const PAGE_SIZE = 50;

export function ActivityPage() {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = async (after: string | null) => {
    try {
      const { auditLog } = await request(ConsoleAuditLogDocument, { first: PAGE_SIZE, after });
      setEvents((shown) => [...(after ? shown : []), ...auditLog.edges.map((edge) => edge.node)]);
      setNext(auditLog.pageInfo.hasNextPage ? auditLog.pageInfo.endCursor : null);
      setLoaded(true);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => void load(null), []);

  return (
    <>
      <h1 tabIndex={-1}>Activity</h1>
      <ErrorText message={error} />
      {loaded && events.length === 0 && <p class="empty">Nothing yet.</p>}
      {events.length > 0 && (
        <table class="activity">
          <caption class="visually-hidden">Audit log, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td data-label="When">{formatDate(event.at)}</td>
                <td data-label="Who">{event.actor ?? 'anonymous'}</td>
                <td data-label="Action">
                  <code>{event.action}</code>
                </td>
                <td data-label="Target" class="file-name">
                  {event.target ?? '—'}
                </td>
                <td data-label="Outcome">
                  <span class={`badge ${event.outcome === 'SUCCESS' ? 'ok' : 'refused'}`}>{event.outcome.toLowerCase()}</span>
                  {event.detail && <span class="reason">{event.detail}</span>}
                </td>
                <td data-label="From">{event.address ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <div class="actions">
          <button type="button" onClick={() => void load(next)}>
            Show older
          </button>
        </div>
      )}
    </>
  );
}
