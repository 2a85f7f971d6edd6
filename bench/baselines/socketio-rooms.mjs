// Baseline (c): a Socket.IO rooms server, what most users would pick. Clients join their rooms
// from the handshake query (`?rooms=a,b&user=u`); a `send` event is answered with an `ack`
// event and broadcast with `io.to(room).emit('messageAdded', ...)`, which reaches the sender too
// (Socket.IO encodes a broadcast once per room and writes it to every member).
// WebSocket transport only, no compression, so it is compared like for like.
// Usage: node bench/baselines/socketio-rooms.mjs --port 8103
import { Server } from 'socket.io';
import { Rooms, buildMessage, checkSend, createHttpServer, listen, parseArgs, readyFrame } from './common.mjs';

const { port } = parseArgs();
const server = createHttpServer();
const io = new Server(server, {
  serveClient: false,
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 64 * 1024,
});
// Socket.IO keeps its own room membership; this only numbers messages per room.
const counters = new Rooms();

io.on('connection', (socket) => {
  const q = socket.handshake.query;
  const names = String(q.rooms ?? q.room ?? '').split(',').filter(Boolean);
  const user = String(q.user ?? 'anonymous');
  const joined = new Set(names);
  for (const n of names) counters.join(n, socket.id);
  socket.join(names);
  socket.emit('ready', readyFrame(user));

  socket.on('send', (frame) => {
    if (frame === null || typeof frame !== 'object') {
      socket.emit('error', { code: 'validation_failed', message: 'send needs an object' });
      return;
    }
    const bad = checkSend(frame, counters, joined);
    if (bad) {
      socket.emit('error', bad);
      return;
    }
    const message = buildMessage(counters.get(frame.conversationId), frame, user);
    socket.emit('ack', { ref: frame.ref, message });
    io.to(frame.conversationId).emit('messageAdded', { conversationId: frame.conversationId, message });
  });
  socket.on('disconnect', () => {
    for (const n of names) counters.leave(n, socket.id);
  });
});

listen(server, port, 'socketio-rooms');
