import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeTextFrame, SocketWriter, TurnCork } from './frame-writer.js';

// ws's own framing, the reference (not in @types/ws).
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
const SENDER_OPTIONS = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false };

interface Pair {
  server: WebSocket;
  client: WebSocket;
  received: Array<{ text: string; binary: boolean }>;
  until(count: number): Promise<void>;
}

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const wss of servers.splice(0)) {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

async function listen(perMessageDeflate: boolean): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  servers.push(wss);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

async function pair(wss: WebSocketServer, url: string, perMessageDeflate = false): Promise<Pair> {
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(url, { perMessageDeflate });
  const received: Pair['received'] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  client.on('message', (data, isBinary) => {
    received.push({ text: String(data), binary: isBinary });
    for (const w of [...waiters]) if (received.length >= w.count) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  await new Promise((resolve, reject) => (client.once('open', resolve), client.once('error', reject)));
  const server = await accepted;
  return {
    server,
    client,
    received,
    until: (count) =>
      received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

describe('encodeTextFrame', () => {
  it('gives the bytes ws frames for a server text message, for every length encoding', () => {
    for (const length of [0, 1, 125, 126, 127, 1000, 65535, 65536, 200_000]) {
      const text = 'x'.repeat(length);
      const frame = encodeTextFrame(text);
      const expected = Buffer.concat(Sender.frame(Buffer.from(text), SENDER_OPTIONS));
      expect(frame.bytes.equals(expected), `length ${length}`).toBe(true);
      expect(frame.bytes.subarray(frame.payloadOffset).toString()).toBe(text);
    }
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    const text = 'héllo ✓ 😀'.repeat(10); // 100 UTF-16 units but 150 UTF-8 bytes: the 16-bit length form
    const frame = encodeTextFrame(text);
    expect(frame.payloadOffset).toBe(4);
    expect(frame.bytes.equals(Buffer.concat(Sender.frame(Buffer.from(text), SENDER_OPTIONS)))).toBe(true);
    expect(frame.bytes.subarray(frame.payloadOffset).toString('utf8')).toBe(text);
  });
});

describe('SocketWriter', () => {
  it('writes one frame to many sockets, intact and in order with ws.send, ping and writeText', async () => {
    const { wss, url } = await listen(false);
    const pairs: Pair[] = [];
    for (let i = 0; i < 3; i += 1) pairs.push(await pair(wss, url));
    const cork = new TurnCork();
    const writers = pairs.map((p) => new SocketWriter(p.server, cork));
    for (const w of writers) expect(w.direct).toBe(true);
    const expected: string[] = [];
    const big = 'b'.repeat(70_000);
    for (let i = 0; i < 20; i += 1) {
      const shared = encodeTextFrame(`{"i":${i},"via":"frame"}`);
      for (const w of writers) w.write(shared);
      expected.push(`{"i":${i},"via":"frame"}`);
      for (const p of pairs) p.server.send(`{"i":${i},"via":"ws.send"}`);
      expected.push(`{"i":${i},"via":"ws.send"}`);
      if (i % 5 === 0) {
        for (const p of pairs) p.server.ping();
        for (const w of writers) w.writeText(big);
        expected.push(big);
      }
    }
    // Across turns too: uncorked between them.
    await new Promise((r) => setImmediate(r));
    for (const w of writers) w.writeText('last');
    expected.push('last');
    await Promise.all(pairs.map((p) => p.until(expected.length)));
    for (const p of pairs) {
      expect(p.received.map((m) => m.text)).toEqual(expected);
      expect(p.received.every((m) => !m.binary)).toBe(true);
    }
  });

  it('corks a socket for the turn: the writes count in bufferedAmount until the turn ends', async () => {
    const { wss, url } = await listen(false);
    const p = await pair(wss, url);
    const writer = new SocketWriter(p.server, new TurnCork());
    const frame = encodeTextFrame('x'.repeat(1000));
    const before = writer.bufferedAmount;
    for (let i = 0; i < 5; i += 1) writer.write(frame);
    expect(writer.bufferedAmount - before).toBe(5 * frame.bytes.length);
    expect(p.server.bufferedAmount).toBe(writer.bufferedAmount);
    await new Promise((r) => process.nextTick(r));
    await p.until(5);
    expect(p.received.map((m) => m.text.length)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('waits behind a frame ws still has queued (a Blob being read) instead of overtaking it', async () => {
    const { wss, url } = await listen(false);
    const p = await pair(wss, url);
    const writer = new SocketWriter(p.server, new TurnCork());
    writer.writeText('first');
    p.server.send(new Blob(['blob']));
    writer.writeText('after the blob');
    writer.write(encodeTextFrame('and this'));
    await p.until(4);
    expect(p.received).toEqual([
      { text: 'first', binary: false },
      { text: 'blob', binary: true },
      { text: 'after the blob', binary: false },
      { text: 'and this', binary: false },
    ]);
  });

  it('falls back to ws.send when permessage-deflate was negotiated', async () => {
    const { wss, url } = await listen(true);
    const p = await pair(wss, url, true);
    expect(p.server.extensions).toContain('permessage-deflate');
    const writer = new SocketWriter(p.server, new TurnCork());
    expect(writer.direct).toBe(false);
    const texts = ['a'.repeat(5000), 'short', 'b'.repeat(5000)];
    writer.writeText(texts[0]!);
    p.server.send(texts[1]!);
    writer.write(encodeTextFrame(texts[2]!));
    await p.until(3);
    expect(p.received.map((m) => m.text)).toEqual(texts);
  });

  it('drops frames once the WebSocket is closing, like ws.send', async () => {
    const { wss, url } = await listen(false);
    const p = await pair(wss, url);
    const writer = new SocketWriter(p.server, new TurnCork());
    writer.writeText('before close');
    const closed = new Promise<number>((resolve) => p.client.once('close', (code) => resolve(code)));
    p.server.close(1000, 'bye');
    expect(() => writer.writeText('after close')).not.toThrow();
    expect(() => writer.write(encodeTextFrame('after close'))).not.toThrow();
    expect(await closed).toBe(1000);
    expect(p.received.map((m) => m.text)).toEqual(['before close']);
    p.server.terminate();
    expect(() => writer.writeText('after terminate')).not.toThrow();
  });
});
