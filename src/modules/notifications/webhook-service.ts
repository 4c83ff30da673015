// The webhook endpoints (in the control database, each secret sealed as the saved passphrase
// is) and the deliveries to them: in the background, never holding up or failing the work
// they report, each attempt in the audit log.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ControlClient } from '../../control/control-db.ts';
import { openSecret, sealSecret } from '../../control/secret-box.ts';
import { logUnexpectedError } from '../../core/error-log.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import type { AuditLog } from '../access/audit-log.ts';
import type { OperationRecord } from '../operation-log.ts';
import { deliverWebhook, type DeliveryResult, type WebhookEnvelope, type WebhookEvent } from './webhook-delivery.ts';

export interface Webhook {
  id: string;
  url: string;
  /** Also sent `backup.succeeded`; failures and restores are sent to every endpoint. */
  onSuccess: boolean;
  createdAt: Date;
}

export interface AddWebhookInput {
  url: string;
  /** The HMAC key; a random one is made (and returned once) when none is given. */
  secret?: string | null;
  onSuccess?: boolean | null;
}

export const MAX_WEBHOOKS = 20;
const MAX_URL_LENGTH = 2048;
const SECRET_LENGTH = { min: 16, max: 256 };
/** One attempt may take this long, answer included. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export class WebhookService {
  private readonly log = childLogger('webhooks');
  private readonly stopping = new AbortController();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      control: ControlClient;
      /** Seals the endpoints' secrets (see control/secret-box.ts). */
      secretKey: () => Promise<Buffer>;
      audit: Pick<AuditLog, 'record'>;
      /** The waits between attempts: their number plus one is the number of attempts. */
      retryDelaysMs: readonly number[];
      /** Called once a delivery is over, delivered or not. */
      onDelivered?: (event: WebhookEvent, ok: boolean) => void;
    },
  ) {}

  async list(): Promise<Webhook[]> {
    const rows = await this.deps.control.webhook.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(describe);
  }

  /**
   * Adds an endpoint. Only http and https URLs, without credentials in them: the receiver
   * checks the signature instead. Any host is allowed, this machine's and the LAN's too:
   * only an admin sets them, and no answer's body is read or shown.
   */
  async add(input: AddWebhookInput): Promise<{ webhook: Webhook; secret: string | null }> {
    const url = checkUrl(input.url);
    const given = input.secret ?? null;
    if (given !== null && (given.length < SECRET_LENGTH.min || given.length > SECRET_LENGTH.max)) {
      throw new ValidationError('secret', `secret must be ${SECRET_LENGTH.min} to ${SECRET_LENGTH.max} characters`);
    }
    if ((await this.deps.control.webhook.count()) >= MAX_WEBHOOKS) {
      throw new ValidationError('url', `there are ${MAX_WEBHOOKS} webhooks already: remove one first`);
    }
    const secret = given ?? `bcpw_${randomBytes(32).toString('base64url')}`;
    const row = await this.deps.control.webhook.create({
      data: {
        id: randomUUID(),
        url,
        secretEncrypted: sealSecret(await this.deps.secretKey(), secret),
        onSuccess: input.onSuccess ?? false,
      },
    });
    return { webhook: describe(row), secret: given === null ? secret : null };
  }

  /** Removes an endpoint and returns its id; deliveries under way to it go on. */
  async remove(id: string): Promise<string> {
    const { count } = await this.deps.control.webhook.deleteMany({ where: { id } });
    if (count === 0) throw new NotFoundError('webhook', id);
    return id;
  }

  /** Sends a `test` event to one endpoint, once, and returns how it went. */
  async test(id: string): Promise<DeliveryResult> {
    const row = await this.deps.control.webhook.findUnique({ where: { id } });
    if (!row) throw new NotFoundError('webhook', id);
    const endpoint = { ...describe(row), secret: openSecret(await this.deps.secretKey(), row.secretEncrypted) };
    return this.deliver(endpoint, envelope('test', { webhookId: id }), []);
  }

  /** Sends what an operation's end tells (see `notificationFor`), if anything. */
  notify(record: OperationRecord): void {
    const notification = notificationFor(record);
    if (notification) this.publish(notification.event, notification.data);
  }

  /**
   * Sends an event to every endpoint (`backup.succeeded` only to those with onSuccess) in the
   * background, and returns at once. A receiver that is down is retried, then given up on.
   */
  publish(event: WebhookEvent, data: Record<string, unknown>): void {
    if (this.stopping.signal.aborted) {
      this.log.warn({ event }, `${event} not sent: the server is stopping`);
      return;
    }
    this.track(this.sendToAll(envelope(event, data)));
  }

  /** Abandons the waits between attempts and waits for the attempts under way. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.pending]);
  }

  /**
   * For a process about to exit (the command-line tool): waits for the deliveries under way,
   * retries included, for `graceMs` at most, then stops as `stop` does.
   */
  async drain(graceMs: number): Promise<void> {
    const timer = setTimeout(() => this.stopping.abort(), graceMs);
    try {
      await Promise.allSettled([...this.pending]);
    } finally {
      clearTimeout(timer);
      await this.stop();
    }
  }

  private async sendToAll(message: WebhookEnvelope): Promise<void> {
    const rows = await this.deps.control.webhook.findMany({
      where: message.event === 'backup.succeeded' ? { onSuccess: true } : {},
    });
    if (rows.length === 0) return;
    const key = await this.deps.secretKey();
    await Promise.all(
      rows.map(async (row) => {
        try {
          const endpoint = { ...describe(row), secret: openSecret(key, row.secretEncrypted) };
          const result = await this.deliver(endpoint, message, this.deps.retryDelaysMs);
          this.deps.onDelivered?.(message.event, result.ok);
        } catch (error) {
          logUnexpectedError(`webhook delivery of ${message.event} to webhook ${row.id}`, error);
        }
      }),
    );
  }

  private async deliver(endpoint: Webhook & { secret: string }, message: WebhookEnvelope, retryDelaysMs: readonly number[]) {
    // The origin and the id only: a URL's path or query may carry a token of the receiver's.
    const where = `${new URL(endpoint.url).origin} (webhook ${endpoint.id})`;
    const fields = { webhookId: endpoint.id, event: message.event, deliveryId: message.deliveryId };
    const result = await deliverWebhook(endpoint, message, {
      retryDelaysMs,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      signal: this.stopping.signal,
      onAttempt: async ({ attempt, of, ok, status, error }) => {
        const detail = `${message.event}, delivery ${message.deliveryId}, attempt ${attempt} of ${of}: ${ok ? `HTTP ${status}` : error}`;
        this.log[ok ? 'debug' : 'warn']({ ...fields, attempt, status }, `webhook to ${where}: ${detail}`);
        await this.deps.audit.record({
          actor: null,
          action: 'webhook.delivery',
          target: where,
          address: null,
          outcome: ok ? 'SUCCESS' : 'FAILURE',
          detail,
        });
      },
    });
    if (result.ok) this.log.info({ ...fields, attempts: result.attempts }, `${message.event} delivered to ${where}`);
    else this.log.error({ ...fields, attempts: result.attempts }, `${message.event} not delivered to ${where}: ${result.error}`);
    return result;
  }

  private track(work: Promise<void>): void {
    const guarded = work.catch((error: unknown) => void logUnexpectedError('webhook delivery', error));
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }
}

/**
 * Backups (manual, scheduled, pre-restore) and restores that ended, as `backup.failed`,
 * `backup.succeeded`, `restore.failed` or `restore.succeeded`; refusals and other operations are not sent.
 */
function notificationFor(record: OperationRecord): { event: WebhookEvent; data: Record<string, unknown> } | null {
  if (record.outcome === 'refused' || (record.op !== 'backup' && record.op !== 'restore')) return null;
  const { kind, trigger, backupId, jobId, sizeBytes, durationMs, error, details } = record;
  const data = { kind, trigger, backupId, jobId, sizeBytes, durationMs, error: error ?? null, ...details };
  return { event: `${record.op}.${record.outcome}`, data };
}

function envelope(event: WebhookEvent, data: Record<string, unknown>): WebhookEnvelope {
  return { event, at: new Date().toISOString(), deliveryId: randomUUID(), data };
}

function describe(row: { id: string; url: string; onSuccess: boolean; createdAt: Date }): Webhook {
  return { id: row.id, url: row.url, onSuccess: row.onSuccess, createdAt: row.createdAt };
}

function checkUrl(text: string): string {
  const trimmed = text.trim();
  let url: URL | null = null;
  try {
    url = new URL(trimmed);
  } catch {
    // reported below
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname) {
    throw new ValidationError('url', `url must be an http:// or https:// URL, not ${JSON.stringify(trimmed.slice(0, 100))}`);
  }
  if (url.username || url.password) {
    throw new ValidationError('url', 'url must not carry a user name or password: receivers check the x-bcp-signature header instead');
  }
  if (trimmed.length > MAX_URL_LENGTH) throw new ValidationError('url', `url must be at most ${MAX_URL_LENGTH} characters`);
  return url.href;
}
