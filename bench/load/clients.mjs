// The load generator's clients: connect many WebSockets, classify frames cheaply, count
// deliveries and acks, and record latencies from the send time embedded in each body.
//
// Two dialects: `json` (Parley and the `ws` baselines: one JSON object per frame) and `sio`
// (Socket.IO over a raw Engine.IO v4 WebSocket: `42["event",{...}]`, pings answered with `3`).
import { connectWs } from './ws-client.mjs';
import { nowUs, readSendTimeUs } from '../lib/body.mjs';
import { Histogram } from '../lib/hist.mjs';
import { WorstPerSlice } from '../lib/slices.mjs';

const JSON_DELIVERY = '{"type":"event","name":"messageAdded"';
const JSON_ACK = '{"type":"ack"';
const SIO_DELIVERY = '42["messageAdded"';
const SIO_ACK = '42["ack"';

/** Counters and histograms shared by every client of one load process. */
export class LoadState {
  constructor() {
    this.deliveries = 0;
    this.acks = 0;
    this.sent = 0;
    this.errors = 0;
    this.errorSamples = [];
    this.slowPathFrames = 0;
    this.unexpectedCloses = 0;
    this.closeSamples = [];
    this.measuring = false;
    this.deliveryHist = new Histogram();
    this.ackHist = new Histogram();
    /** The worst ack latency of the messages sent in each 100 ms of the window. */
    this.ackSlices = new WorstPerSlice(100_000);
    this.byLabel = new Map();
    /** Called after every delivery or ack (the mode's pump). */
    this.onProgress = null;
    this.onAck = null;
  }

  labelHist(label) {
    let h = this.byLabel.get(label);
    if (!h) {
      h = new Histogram();
      this.byLabel.set(label, h);
    }
    return h;
  }

  error(text) {
    this.errors += 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(text.slice(0, 300));
  }
}

/** Opens one client and resolves once the server's `ready` frame has arrived. */
export function openClient(state, spec, dialect, host, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    let client = null;
    let ready = false;
    const label = spec.label ?? 'all';
    const hist = spec.label ? state.labelHist(label) : null;
    const timer = setTimeout(() => {
      client?.destroy();
      reject(new Error(`no ready frame within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      resolve(client);
    };

    const delivery = (buf, s, e) => {
      state.deliveries += 1;
      if (state.measuring) {
        const t = readSendTimeUs(buf, s, e);
        if (t >= 0) {
          const lat = nowUs() - t;
          state.deliveryHist.record(lat);
          hist?.record(lat);
        }
      }
      state.onProgress?.();
    };
    const ack = (buf, s, e, c) => {
      state.acks += 1;
      c.inflight -= 1;
      if (state.measuring) {
        const t = readSendTimeUs(buf, s, e);
        if (t >= 0) {
          const lat = nowUs() - t;
          state.ackHist.record(lat);
          state.ackSlices.record(t, lat);
        }
      }
      state.onAck?.(c);
      state.onProgress?.();
    };

    const onJson = (buf, s, e, c) => {
      const head = buf.toString('latin1', s, Math.min(e, s + 40));
      if (head.startsWith(JSON_DELIVERY)) return delivery(buf, s, e);
      if (head.startsWith(JSON_ACK)) return ack(buf, s, e, c);
      // Anything else (ready, errors, other events, or another key order) is rare: parse it.
      state.slowPathFrames += 1;
      let frame;
      try {
        frame = JSON.parse(buf.toString('utf8', s, e));
      } catch {
        return state.error(`unparseable frame: ${buf.toString('utf8', s, Math.min(e, s + 200))}`);
      }
      if (frame.type === 'ready') onReady();
      else if (frame.type === 'event' && frame.name === 'messageAdded') delivery(buf, s, e);
      else if (frame.type === 'ack') ack(buf, s, e, c);
      else if (frame.type === 'error') state.error(JSON.stringify(frame));
    };

    const onSio = (buf, s, e, c) => {
      const head = buf.toString('latin1', s, Math.min(e, s + 40));
      if (head.startsWith(SIO_DELIVERY)) return delivery(buf, s, e);
      if (head.startsWith(SIO_ACK)) return ack(buf, s, e, c);
      state.slowPathFrames += 1;
      if (head === '2') c.send('3');
      else if (head.startsWith('0{')) c.send('40');
      else if (head.startsWith('42["ready"')) onReady();
      else if (head.startsWith('42["error"') || head.startsWith('44')) state.error(buf.toString('utf8', s, e));
    };

    connectWs({
      host,
      port: spec.port,
      path: spec.path,
      localAddress: spec.localAddress,
      timeoutMs,
      onOpen: (c) => {
        client = c;
        c.inflight = 0;
        c.spec = spec;
        c.k = 0;
      },
      onText: dialect === 'sio' ? onSio : onJson,
      onClose: (c, byUs) => {
        if (byUs || state.closing) return;
        state.unexpectedCloses += 1;
        if (state.closeSamples.length < 5) state.closeSamples.push(`${c.closeCode ?? 'no close frame'} ${c.closeReason ?? ''}`);
      },
    }).catch((err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Connects `specs` with at most `concurrency` handshakes in flight.
 * Returns the clients that made it, failures, and the connect rate.
 */
export async function connectAll(state, specs, { dialect, host, concurrency = 256, timeoutMs }) {
  const clients = [];
  const failures = [];
  let next = 0;
  const t0 = nowUs();
  const worker = async () => {
    while (next < specs.length) {
      const i = next;
      next += 1;
      try {
        clients.push(await openClient(state, specs[i], dialect, host, timeoutMs));
      } catch (err) {
        failures.push(err.message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  const seconds = (nowUs() - t0) / 1e6;
  return {
    clients,
    connected: clients.length,
    failed: failures.length,
    failureSamples: [...new Set(failures)].slice(0, 5),
    connectSeconds: seconds,
    connectsPerSec: clients.length / seconds,
  };
}

let refSeq = 0;
const runNonce = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** Sends one message from `client` to its next conversation, with the time in the body. */
export function sendOne(state, client, dialect, makeBody) {
  const convs = client.spec.sendTo;
  const conv = convs[client.k % convs.length];
  client.k += 1;
  refSeq += 1;
  const frame =
    `{"type":"send","ref":"${refSeq}","conversationId":${JSON.stringify(conv)},` +
    `"clientId":"${runNonce}-${refSeq}","body":"${makeBody()}"}`;
  client.send(dialect === 'sio' ? `42["send",${frame}]` : frame);
  client.inflight += 1;
  state.sent += 1;
}
