import { CLOSE_CODES, type ClientFrame, type EventFrame, type ReadyFrame, type ServerFrame } from '@parley/protocol';
import { Backoff } from './backoff.js';
import { TypedEmitter } from './emitter.js';
import { ParleyError } from './errors.js';
import type { TokenStore } from './tokens.js';

/** The connection states, as in `@twilio/conversations`. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'denied';

/** The part of the WebSocket API the SDK uses (browser `WebSocket` and the `ws` package both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** A WebSocket constructor: the browser's, or `WebSocket` from the `ws` package in Node. */
export type WebSocketCtor = new (url: string) => unknown;

/** Options for {@link Realtime}. */
export interface RealtimeOptions {
  /** `ws(s)://host/ws` */
  url: string;
  tokens: TokenStore;
  WebSocket?: WebSocketCtor;
  backoff?: { minMs?: number; maxMs?: number };
  /** Ping period; a missing pong within `heartbeatMs / 2` drops the socket. Default 25 s. */
  heartbeatMs?: number;
  /**
   * Asked when a socket closed before `ready` without saying why (a refused upgrade looks like
   * that in browsers): resolves with the REST error code for the current token, if any.
   */
  probeToken?: () => Promise<string | null>;
}

/** Internal events of {@link Realtime}. */
export interface RealtimeEvents {
  state: ConnectionState;
  /** Every `ready` frame; `reconnect` is false only for the first. */
  ready: { frame: ReadyFrame; reconnect: boolean };
  event: EventFrame;
  /** A server frame whose `ref` matches no request (e.g. a late `ack`). */
  unmatched: ServerFrame;
  tokenExpired: void;
  error: ParleyError;
}

/** Raised for requests cut short by a lost connection; their work is retried elsewhere. */
export class ConnectionLostError extends ParleyError {
  constructor() {
    super('unavailable', 'The connection was lost before the server replied', { status: 0 });
  }
}

interface PendingRequest {
  resolve: (frame: ServerFrame) => void;
  reject: (err: Error) => void;
}

const OPEN = 1;
const TOKEN_CODES: ReadonlySet<string> = new Set(['token_expired', 'invalid_token', 'unauthenticated']);

/**
 * One logical WebSocket connection that survives drops: it reconnects with jittered backoff,
 * refreshes the token on close 4001 (when it can), keeps a heartbeat, and matches replies to
 * requests by `ref`. What to do after each `ready` (resume, re-send) is the client's business.
 */
export class Realtime extends TypedEmitter<RealtimeEvents> {
  private ws: WebSocketLike | null = null;
  private readonly Ctor: WebSocketCtor;
  private readonly backoff: Backoff;
  private readonly pending = new Map<string, PendingRequest>();
  private nextRef = 0;
  private stateValue: ConnectionState = 'disconnected';
  private isReady = false;
  private everReady = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private first: { resolve: (f: ReadyFrame) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly opts: RealtimeOptions) {
    super();
    const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ctor) throw new TypeError('No WebSocket available: pass the `WebSocket` option (in Node: `import { WebSocket } from "ws"`)');
    this.Ctor = Ctor;
    this.backoff = new Backoff(opts.backoff);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** True between `ready` and the next drop. */
  get connected(): boolean {
    return this.isReady && this.ws?.readyState === OPEN;
  }

  /** Connects; resolves with the first `ready`, rejects if the token is refused for good. */
  start(): Promise<ReadyFrame> {
    return new Promise<ReadyFrame>((resolve, reject) => {
      this.first = { resolve, reject };
      this.connect();
    });
  }

  /** Tries again after `denied` (e.g. the application supplied a new token). */
  retry(): void {
    if (this.stopped || this.ws || this.timer) return;
    this.backoff.reset();
    this.connect();
  }

  /** Closes for good (code 1000) and fails outstanding requests. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    ws?.close(CLOSE_CODES.normal, 'client shutdown');
    this.failPending();
    this.first?.reject(new ParleyError('unavailable', 'The client was shut down', { status: 0 }));
    this.first = null;
    this.setState('disconnected');
  }

  /** Sends a frame that gets a reply; resolves with the reply, rejects with a `ParleyError`. */
  request(frame: ClientFrame): Promise<ServerFrame> {
    if (!this.connected) return Promise.reject(new ConnectionLostError());
    const ref = `r${++this.nextRef}`;
    return new Promise<ServerFrame>((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.transmit({ ...frame, ref });
    });
  }

  /** Sends a frame without waiting for anything; false when not connected. */
  notify(frame: ClientFrame): boolean {
    if (!this.connected) return false;
    return this.transmit(frame);
  }

  private transmit(frame: ClientFrame): boolean {
    try {
      this.ws?.send(JSON.stringify(frame));
      return true;
    } catch {
      // The close handler will follow and fail the request.
      return false;
    }
  }

  private connect(): void {
    if (this.stopped) return;
    this.timer = null;
    this.setState('connecting');
    const url = `${this.opts.url}?token=${encodeURIComponent(this.opts.tokens.current)}`;
    let ws: WebSocketLike;
    try {
      ws = new this.Ctor(url) as WebSocketLike;
    } catch (err) {
      this.emit('error', ParleyError.network(err));
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.onClose(ev.code);
    };
    ws.onerror = () => {
      // Always followed by close.
    };
  }

  private onFrame(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === 'ready') return this.onReady(frame);
    if (frame.type === 'event') {
      this.emit('event', frame);
      return;
    }
    const ref = frame.ref;
    const waiting = ref === undefined ? undefined : this.pending.get(ref);
    if (!waiting || ref === undefined) {
      // A token complaint without a ref comes right before close 4001, which is handled there.
      if (frame.type === 'error' && !TOKEN_CODES.has(frame.code)) this.emit('error', ParleyError.fromFrame(frame));
      else this.emit('unmatched', frame);
      return;
    }
    this.pending.delete(ref);
    if (frame.type === 'error') waiting.reject(ParleyError.fromFrame(frame));
    else waiting.resolve(frame);
  }

  private onReady(frame: ReadyFrame): void {
    this.isReady = true;
    this.backoff.reset();
    this.startHeartbeat();
    const reconnect = this.everReady;
    this.everReady = true;
    this.setState('connected');
    const first = this.first;
    this.first = null;
    first?.resolve(frame);
    this.emit('ready', { frame, reconnect });
  }

  private onClose(code: number): void {
    const wasReady = this.isReady;
    this.detach();
    this.failPending();
    if (this.stopped) return;
    if (code === CLOSE_CODES.unauthorized) return this.onUnauthorized();
    if (code === CLOSE_CODES.forbidden) return this.deny(new ParleyError('unauthenticated', 'The session was revoked'));
    this.setState('disconnected');
    if (!wasReady && this.opts.probeToken) {
      void this.probe();
      return;
    }
    this.scheduleReconnect();
  }

  private async probe(): Promise<void> {
    let code: string | null = null;
    try {
      code = (await this.opts.probeToken?.()) ?? null;
    } catch {
      code = null;
    }
    if (this.stopped) return;
    if (code === 'token_expired' || code === 'invalid_token') this.onUnauthorized();
    else if (code === 'unauthenticated') this.deny(new ParleyError('unauthenticated'));
    else this.scheduleReconnect();
  }

  private onUnauthorized(): void {
    this.emit('tokenExpired', undefined);
    const { tokens } = this.opts;
    if (!tokens.canRefresh) return this.deny(new ParleyError('token_expired'));
    this.setState('disconnected');
    const stale = tokens.current;
    tokens.refresh(stale).then(
      () => this.scheduleReconnect(0),
      (err: unknown) => {
        if (err instanceof ParleyError && !err.retryable) this.deny(err);
        else this.scheduleReconnect();
      },
    );
  }

  private deny(err: ParleyError): void {
    this.clearTimers();
    this.setState('denied');
    const first = this.first;
    this.first = null;
    if (first) first.reject(err);
    else this.emit('error', err);
  }

  private scheduleReconnect(delay = this.backoff.next()): void {
    if (this.stopped || this.timer) return;
    this.setState('disconnected');
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private startHeartbeat(): void {
    const period = this.opts.heartbeatMs ?? 25_000;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      const ws = this.ws;
      const deadline = setTimeout(() => {
        // No pong: the peer is gone without a close (a dead network path). Do not wait for a
        // close handshake that may never finish.
        if (this.ws === ws) {
          ws?.close(4000, 'heartbeat timeout');
          this.onClose(1006);
        }
      }, period / 2);
      this.request({ type: 'ping' }).then(
        () => clearTimeout(deadline),
        () => clearTimeout(deadline),
      );
    }, period);
  }

  private detach(): void {
    const ws = this.ws;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.onopen = null;
      ws.onerror = () => undefined;
    }
    this.ws = null;
    this.isReady = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private failPending(): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(new ConnectionLostError());
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }
}
