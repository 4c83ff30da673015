// The signature a receiver checks: HMAC-SHA256, keyed with the endpoint's secret, of the
// timestamp header, a dot and the raw body (README, "Monitoring and notifications").
import { createHmac } from 'node:crypto';

/** The `x-bcp-signature` header for a body sent at `timestamp` (Unix seconds, as in `x-bcp-timestamp`). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
