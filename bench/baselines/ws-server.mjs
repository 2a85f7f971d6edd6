// The `ws` server shared by the two `ws` baselines; only the fan-out strategy differs.
import { WebSocketServer } from 'ws';
import { Rooms, buildMessage, checkSend, createHttpServer, listen, parseArgs, parseJoin, readyFrame } from './common.mjs';

/**
 * Starts a `ws` chat server. `fanOut(members, payload)` delivers one event object to every
 * member socket of a room; the rest (parse, validate, build, ack) is identical.
 */
export function startWsBaseline(name, fanOut) {
  const { port } = parseArgs();
  const server = createHttpServer();
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 });
  const rooms = new Rooms();

  wss.on('connection', (ws, req) => {
    const { rooms: names, user } = parseJoin(req.url);
    const joined = new Set(names);
    for (const n of names) rooms.join(n, ws);
    ws.send(JSON.stringify(readyFrame(user)));

    ws.on('message', (data, isBinary) => {
      let frame;
      try {
        frame = JSON.parse(isBinary ? data : data.toString());
      } catch {
        ws.send(JSON.stringify({ type: 'error', code: 'malformed_json', message: 'The frame is not valid JSON' }));
        return;
      }
      if (frame.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong', ref: frame.ref }));
        return;
      }
      if (frame.type !== 'send') {
        ws.send(JSON.stringify({ type: 'error', ref: frame.ref, code: 'unknown_frame', message: 'Unknown frame type' }));
        return;
      }
      const bad = checkSend(frame, rooms, joined);
      if (bad) {
        ws.send(JSON.stringify(bad));
        return;
      }
      const room = rooms.get(frame.conversationId);
      const message = buildMessage(room, frame, user);
      ws.send(JSON.stringify({ type: 'ack', ref: frame.ref, message }));
      fanOut(room.members, { type: 'event', name: 'messageAdded', data: { conversationId: frame.conversationId, message } });
    });
    ws.on('close', () => {
      for (const n of names) rooms.leave(n, ws);
    });
    ws.on('error', () => {});
  });

  listen(server, port, name);
}
