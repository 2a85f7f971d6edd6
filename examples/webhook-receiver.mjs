#!/usr/bin/env node
/**
 * A site's webhook receiver: a runnable example of Parley's webhooks in plain Node.js (20+),
 * with no dependencies (docs/integrators.md, section 5).
 *
 * With a key from `npx parley keys create --name my-site`:
 *
 *   PARLEY_KEY_SECRET=... node examples/webhook-receiver.mjs --port 9000
 *   curl -X PUT -H "authorization: Basic $(printf '%s:%s' "$KEY_ID" "$KEY_SECRET" | base64 -w0)" \
 *     -H 'content-type: application/json' -d '{"url":"http://127.0.0.1:9000/parley-events"}' \
 *     http://localhost:8000/api/webhook
 *
 * Then every message and membership change of the conversations created through that key is
 * printed, one line each. A delivery whose signature is wrong or stale is answered 401 (Parley
 * then retries it), a repeated one (same id) is answered 200 and skipped.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '9000' }, host: { type: 'string', default: '127.0.0.1' } } });
const secret = process.env.PARLEY_KEY_SECRET;
if (!secret) {
  console.error('Set PARLEY_KEY_SECRET to the secret of the key whose webhook this is.');
  process.exit(2);
}

/** Whether `header` (X-Parley-Signature) signs `rawBody` with the key secret, made within 5 minutes. */
function fromParley(rawBody, header) {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '') ?? [];
  if (!t || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

const seen = new Set();

function describe(event) {
  const { message, participant } = event.data;
  if (message) return `#${message.index} ${message.author}: ${message.removedAt ? '(removed)' : JSON.stringify(message.body)}`;
  return `${participant.username} is ${participant.status}`;
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    if (!fromParley(raw, req.headers['x-parley-signature'])) {
      console.warn('refused a delivery with a bad signature');
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(raw);
    if (!seen.has(event.id)) {
      seen.add(event.id);
      console.log(`${event.createdAt} ${event.conversationId} ${event.type}: ${describe(event)}`);
    }
    res.writeHead(204).end();
  });
});

server.listen(Number(args.port), args.host, () => console.log(`listening on http://${args.host}:${args.port}/ (any path)`));
