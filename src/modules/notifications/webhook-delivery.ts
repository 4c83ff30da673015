// One event to one endpoint: a signed POST, sent again after each wait while it fails, until
// the endpoint answers 2xx or the waits run out. Each attempt is reported; nothing is thrown.
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_VERSION } from '../../core/version.ts';
import { webhookSignature } from './webhook-signature.ts';

export type WebhookEvent = 'backup.failed' | 'backup.succeeded' | 'restore.failed' | 'restore.succeeded' | 'test';

/** The body of every delivery; `deliveryId` stays the same across a delivery's attempts. */
export interface WebhookEnvelope {
  event: WebhookEvent;
  at: string;
  deliveryId: string;
  data: Record<string, unknown>;
}

export interface AttemptReport {
  attempt: number;
  of: number;
  ok: boolean;
  /** The HTTP status; null when there was no answer. */
  status: number | null;
  error: string | null;
}

export interface DeliveryResult {
  deliveryId: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  attempts: number;
  durationMs: number;
}

export interface DeliveryOptions {
  /** The waits before the second, third, … attempt; none: one attempt. */
  retryDelaysMs: readonly number[];
  /** How long one attempt may take, answer included. */
  timeoutMs: number;
  /** Aborted when the server stops: no further attempt, and the one under way is not reported. */
  signal: AbortSignal;
  onAttempt(report: AttemptReport): Promise<void>;
}

export async function deliverWebhook(
  endpoint: { url: string; secret: string },
  envelope: WebhookEnvelope,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const body = JSON.stringify(envelope);
  const started = performance.now();
  const of = options.retryDelaysMs.length + 1;
  const result = (attempts: number, answer: { status: number | null; error: string | null }, ok: boolean) => ({
    deliveryId: envelope.deliveryId,
    ok,
    ...answer,
    attempts,
    durationMs: Math.round(performance.now() - started),
  });
  let answer: { status: number | null; error: string | null } = { status: null, error: null };
  for (let attempt = 1; attempt <= of; attempt++) {
    if (attempt > 1) await sleep(options.retryDelaysMs[attempt - 2], undefined, { signal: options.signal }).catch(() => {});
    if (options.signal.aborted) return result(attempt - 1, { status: null, error: 'abandoned: the server stopped' }, false);
    answer = await post(endpoint, envelope, body, options);
    if (options.signal.aborted) return result(attempt, { status: null, error: 'abandoned: the server stopped' }, false);
    const ok = answer.status !== null && answer.status >= 200 && answer.status < 300;
    await options.onAttempt({ attempt, of, ok, ...answer });
    if (ok) return result(attempt, answer, true);
  }
  return result(of, answer, false);
}

async function post(
  endpoint: { url: string; secret: string },
  envelope: WebhookEnvelope,
  body: string,
  options: DeliveryOptions,
): Promise<{ status: number | null; error: string | null }> {
  // A new timestamp each attempt, so a receiver may refuse old ones (replays) and still take a retry.
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': `backup-control-plane/${APP_VERSION}`,
        'x-bcp-event': envelope.event,
        'x-bcp-delivery': envelope.deliveryId,
        'x-bcp-timestamp': String(timestamp),
        'x-bcp-signature': webhookSignature(endpoint.secret, timestamp, body),
      },
      body,
      // A redirect is not followed: the endpoint is the URL the admin gave, nowhere else.
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    // The answer's body is not read: only its status counts.
    await response.body?.cancel().catch(() => {});
    if (response.ok) return { status: response.status, error: null };
    const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
    return { status: response.status, error: `HTTP ${response.status}${redirect}` };
  } catch (error) {
    return { status: null, error: networkProblem(error, options.timeoutMs) };
  }
}

function networkProblem(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? (error as Error).message;
}
