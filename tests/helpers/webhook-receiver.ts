import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** One POST a webhook receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; conversationId: string; createdAt: string; data: any };
}

/** A real HTTP server standing in for a site's webhook endpoint. */
export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Statuses to answer with, in turn; 200 once they are used up. */
  answer(...statuses: number[]): void;
  /** Forgets the statuses still planned: 200 from now on. */
  recover(): void;
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 that records every request and answers as told.
 *
 * @example
 * const receiver = await startReceiver();
 * receiver.answer(500, 500); // then 200
 */
export async function startReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const planned: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.statusCode = planned.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/parley-events`,
    received,
    answer: (...statuses) => void planned.push(...statuses),
    recover: () => void planned.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Checks a delivery's `X-Parley-Signature` the way docs/integrators.md tells a receiver to:
 * HMAC-SHA256 with the key secret over `<t>.<raw body>`, hex, within 5 minutes.
 */
export function signatureValid(secret: string, delivery: Received): boolean {
  const header = String(delivery.headers['x-parley-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const [, t, v1] = match;
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${delivery.raw}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1!, 'hex'));
}
