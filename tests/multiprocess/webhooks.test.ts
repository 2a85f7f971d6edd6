import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey, type ApiKey } from '../helpers/api-keys.js';
import { signatureValid, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { startServer, type ServerProcess } from './support/server-process.js';
import { servicesAvailable } from './support/services.js';
import { useTwoProcesses } from './support/two-processes.js';

/*
 * Webhooks with two processes sharing PostgreSQL and Redis (ADR 0016): each event is POSTed by
 * one process only (a lease per conversation), in index order whichever process took the
 * message, and when the process delivering dies, the other takes over once its lease ran out.
 */
const available = await servicesAvailable('multi-process webhook tests');

describe.skipIf(!available)('webhooks across two processes', () => {
  // A short timeout makes the lease short (2 x timeout + 5 s), so the take-over test is quick.
  const two = useTwoProcesses({ PARLEY_WEBHOOK_TIMEOUT_MS: '500', PARLEY_WEBHOOK_RETRY_MAX_MS: '200' });
  let receiver: WebhookReceiver;
  let key: ApiKey;
  let sends = 0;

  beforeAll(async () => {
    receiver = await startReceiver();
    key = await createApiKey({ dataDir: '/nonexistent', databaseUrl: two.env.DATABASE_URL }, 'two-process shop');
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const headers = (identity?: string): Record<string, string> => ({
    authorization: `Basic ${Buffer.from(`${key.id}:${key.secret}`).toString('base64')}`,
    'content-type': 'application/json',
    ...(identity === undefined ? {} : { 'x-parley-identity': identity }),
  });
  async function post(at: ServerProcess, path: string, body: unknown, identity?: string, method = 'POST'): Promise<any> {
    const res = await fetch(at.url + path, { method, headers: headers(identity), body: JSON.stringify(body) });
    expect(res.status, `${method} ${path} on ${at.name}`).toBeLessThan(300);
    return res.json();
  }
  const send = (at: ServerProcess, conversationId: string, body: string) =>
    post(at, `/api/conversations/${conversationId}/messages`, { body, clientId: `mp-${++sends}` }, 'mp.ann');
  const added = (conversationId: string) =>
    receiver.received.filter((r) => r.body.conversationId === conversationId && r.body.type === 'messageAdded').map((r) => r.body.data.message.body as string);

  it('sends each event once, in order, whichever process took the message', async () => {
    const { p1, p2 } = two;
    await post(p1, '/api/webhook', { url: receiver.url, events: ['messageAdded'] }, undefined, 'PUT');
    const created = await post(p2, '/api/conversations', { title: 'Two processes' }, 'mp.ann');
    const conversationId = created.conversation.conversation.id as string;
    const sent: string[] = [];
    for (let i = 1; i <= 30; i++) {
      sent.push(`m${i}`);
      await send(i % 2 === 0 ? p1 : p2, conversationId, `m${i}`);
    }
    await vi.waitFor(() => expect(added(conversationId)).toEqual(sent), { timeout: 15_000 });
    // Both processes poll and hear every message: still no event went out twice.
    await new Promise((r) => setTimeout(r, 1500));
    expect(added(conversationId)).toEqual(sent);
    const deliveries = receiver.received.filter((r) => r.body.conversationId === conversationId);
    expect(new Set(deliveries.map((r) => r.body.id)).size).toBe(deliveries.length);
    for (const r of deliveries) expect(signatureValid(key.secret, r)).toBe(true);
  });

  it('is taken over by the other process when the one delivering dies', async () => {
    const p3 = await startServer('p3', two.env);
    const created = await post(p3, '/api/conversations', { title: 'Take-over' }, 'mp.ann');
    const conversationId = created.conversation.conversation.id as string;
    // The receiver fails for now: whoever delivers keeps retrying, holding its lease meanwhile.
    receiver.answer(...Array<number>(10_000).fill(503));
    const sent: string[] = [];
    for (let i = 1; i <= 10; i++) {
      sent.push(`t${i}`);
      await send(i % 2 === 0 ? p3 : two.p1, conversationId, `t${i}`);
    }
    await vi.waitFor(() => expect(added(conversationId).length).toBeGreaterThan(3));
    await p3.stop('SIGKILL');
    await two.p2.stop('SIGKILL');
    receiver.recover();
    // p1 alone is left: whatever p3 or p2 held, p1 delivers it all once their leases run out.
    await vi.waitFor(() => expect([...new Set(added(conversationId))]).toEqual(sent), { timeout: 20_000 });
  }, 40_000);
});
