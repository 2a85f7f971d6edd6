// Shared by the three baseline servers: arguments, rooms, and the message they fan out.
//
// The baselines speak Parley's wire shapes (docs/protocol.md) without persistence or auth, so
// one load generator drives all of them: a client joins rooms by query string
// (`/ws?rooms=a,b&user=u`), gets a `ready` frame, sends
// `{"type":"send","ref","conversationId","clientId","body"}`, and every member of the room
// (the sender included, as in Parley) receives `{"type":"event","name":"messageAdded",...}`;
// the sender also gets `{"type":"ack","ref","message"}`.
import http from 'node:http';

/** Parses `--port N` (0 picks a free port). */
export function parseArgs(argv = process.argv.slice(2)) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${argv[i + 1]}`);
  return { port };
}

/** Reads `rooms` (comma-separated, or a single `room`) and `user` from a request URL. */
export function parseJoin(url) {
  const q = new URL(url, 'http://x').searchParams;
  const rooms = (q.get('rooms') ?? q.get('room') ?? '').split(',').filter(Boolean);
  const user = q.get('user') ?? 'anonymous';
  return { rooms, user };
}

/** Room name -> { members: Set, index }. */
export class Rooms {
  #rooms = new Map();

  join(name, member) {
    let room = this.#rooms.get(name);
    if (!room) {
      room = { members: new Set(), index: 0 };
      this.#rooms.set(name, room);
    }
    room.members.add(member);
    return room;
  }

  leave(name, member) {
    const room = this.#rooms.get(name);
    if (!room) return;
    room.members.delete(member);
    if (room.members.size === 0) this.#rooms.delete(name);
  }

  get(name) {
    return this.#rooms.get(name);
  }
}

let nextId = 0;
const idPrefix = `M${process.pid.toString(36).toUpperCase()}`;

/** The message object Parley would build (same fields, see `Message` in packages/protocol). */
export function buildMessage(room, frame, user) {
  nextId += 1;
  room.index += 1;
  return {
    id: `${idPrefix}${nextId.toString(36).toUpperCase().padStart(10, '0')}`,
    conversationId: frame.conversationId,
    index: room.index,
    authorId: user,
    author: user,
    body: frame.body,
    clientId: frame.clientId ?? null,
    attributes: {},
    createdAt: new Date().toISOString(),
  };
}

/** Returns an error frame (as Parley shapes it) or null when `frame` is a valid send. */
export function checkSend(frame, rooms, joined) {
  if (typeof frame.conversationId !== 'string' || typeof frame.body !== 'string' || frame.body.length === 0) {
    return { type: 'error', ref: frame.ref, code: 'validation_failed', message: 'send needs conversationId and body' };
  }
  const room = rooms.get(frame.conversationId);
  if (!room || !joined.has(frame.conversationId)) {
    return { type: 'error', ref: frame.ref, code: 'conversation_not_found', message: 'Conversation not found' };
  }
  return null;
}

export function readyFrame(user) {
  return {
    type: 'ready',
    connectionId: `C${Math.random().toString(36).slice(2, 10)}`,
    userId: user,
    identity: user,
    tokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
  };
}

/** An HTTP server that answers /healthz, for the harness's readiness check. */
export function createHttpServer() {
  return http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    res.writeHead(404).end();
  });
}

/** Listens, prints the `listening` line the harness waits for, and exits with the harness. */
export function listen(server, port, name) {
  server.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address();
    process.stdout.write(`${JSON.stringify({ msg: 'listening', name, port: actual, pid: process.pid })}\n`);
  });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // An orphaned baseline (the harness died) must not linger.
  setInterval(() => {
    if (process.ppid === 1) process.exit(0);
  }, 1000).unref();
}
