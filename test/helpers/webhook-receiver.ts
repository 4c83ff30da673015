// A real webhook endpoint on an ephemeral port: it keeps every request and answers each with
// the next status of its script, then 200. `signedBy` checks a delivery as a receiver would,
// from the README's scheme alone.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './server.ts';

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  json: { event: string; at: string; deliveryId: string; data: Record<string, unknown> };
  /** The status it was answered with. */
  status: number;
}

export interface Receiver {
  url: string;
  received: Delivery[];
  /** Waits until `count` requests have come (30 s at most). */
  waitForDeliveries(count: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

export async function startReceiver(statuses: number[] = []): Promise<Receiver> {
  const received: Delivery[] = [];
  const script = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = script.shift() ?? 200;
      received.push({ headers: req.headers, body, json: JSON.parse(body) as Delivery['json'], status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/backups`,
    received,
    waitForDeliveries: (count) => waitFor(`${count} webhook deliveries`, async () => (received.length >= count ? received : null)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether `x-bcp-signature` is `sha256=` and the HMAC-SHA256 of `x-bcp-timestamp`, a dot and the body, under `secret`. */
export function signedBy(delivery: Delivery, secret: string): boolean {
  const timestamp = String(delivery.headers['x-bcp-timestamp'] ?? '');
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`);
  const given = Buffer.from(String(delivery.headers['x-bcp-signature'] ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
