// Baseline (b): the practical Node ceiling. The event is serialised once and framed once
// (`WebSocket.Sender.frame`, unmasked, no compression), and the same Buffer is written to
// every member's socket: one `socket.write` per recipient and nothing else, so what is left
// is the kernel's per-write cost.
//
// Writing to `ws._socket` directly is safe here because compression is off: `ws` then writes
// every frame synchronously, so frames from `ws.send` (the ack) and these never interleave.
// Usage: node bench/baselines/ws-frame-once.mjs --port 8102
import { Sender } from 'ws';
import { startWsBaseline } from './ws-server.mjs';

const FRAME_OPTIONS = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false };

startWsBaseline('ws-frame-once', (members, event) => {
  const frame = Buffer.concat(Sender.frame(Buffer.from(JSON.stringify(event)), FRAME_OPTIONS));
  for (const ws of members) {
    if (ws.readyState === 1) ws._socket.write(frame);
  }
});
