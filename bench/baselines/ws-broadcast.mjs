// Baseline (a): a bare `ws` broadcast server, the way a hand-rolled Node chat does it:
// JSON.stringify the event and `ws.send` it once per recipient.
// Usage: node bench/baselines/ws-broadcast.mjs --port 8101
import { startWsBaseline } from './ws-server.mjs';

startWsBaseline('ws-broadcast', (members, event) => {
  for (const ws of members) {
    if (ws.readyState === 1) ws.send(JSON.stringify(event));
  }
});
