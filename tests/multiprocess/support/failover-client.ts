import type { Message } from '@parley/protocol';
import { Socket, type Account, type Endpoint, type Frame } from './chat-client.js';

/**
 * A client of one conversation that knows every server's address, the way a client behind
 * a load balancer effectively does: when its socket drops it connects to the next server,
 * resumes from the last index it holds without a gap, fills gaps by index over REST and
 * retries unacknowledged sends with the same clientId. It keeps one copy of each message
 * (by index), as docs/protocol.md asks of clients.
 *
 * @example
 * const client = await FailoverClient.start(ada, [p1, p2], room);
 * await client.send('hi', 'ada-1');
 */
export class FailoverClient {
  /** One entry per index. */
  readonly messages = new Map<number, Message>();
  /** Deliveries of an index already held (live events may interleave with a resume replay). */
  redeliveries = 0;
  reconnects = 0;
  private socket: Socket | undefined;
  private connected: Promise<Socket>;
  private at = 0;
  private filling: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly account: Account,
    private readonly endpoints: Endpoint[],
    readonly conversationId: string,
  ) {
    this.connected = this.connect();
  }

  static async start(account: Account, endpoints: Endpoint[], conversationId: string): Promise<FailoverClient> {
    const client = new FailoverClient(account, endpoints, conversationId);
    await client.connected;
    return client;
  }

  /** Highest k such that 1..k are all held. */
  get contiguous(): number {
    let k = 0;
    while (this.messages.has(k + 1)) k += 1;
    return k;
  }

  /** Sends until acknowledged, across reconnects; the same clientId makes retries idempotent. */
  async send(body: string, clientId: string): Promise<Message> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const socket = await this.connected;
      try {
        const message = await socket.send(this.conversationId, body, clientId);
        this.hold(message);
        return message;
      } catch (err) {
        const frame = (err as { frame?: Frame }).frame;
        if (frame && frame.code !== 'unavailable' && frame.code !== 'internal') throw err;
        await new Promise((r) => setTimeout(r, frame?.retryAfterMs ?? 50));
      }
    }
    throw new Error(`send ${clientId} never acknowledged`);
  }

  /** Resolves once indexes 1..n are all held. */
  async waitFor(n: number, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.contiguous < n) {
      if (Date.now() > deadline) throw new Error(`${this.account.username} holds 1..${this.contiguous}, expected 1..${n}`);
      void this.fillGaps();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.stopped = true;
    this.socket?.kill();
  }

  private async connect(): Promise<Socket> {
    for (let attempt = 0; ; attempt += 1) {
      const endpoint = this.endpoints[this.at % this.endpoints.length]!;
      try {
        const socket = await this.account.connect(endpoint);
        socket.onFrame((frame) => this.onFrame(frame));
        this.socket = socket;
        void socket.closed.then(() => this.dropped());
        const resumed = await socket.request({ type: 'resume', positions: { [this.conversationId]: this.contiguous } });
        if (resumed.type !== 'resumed') throw new Error(`resume failed: ${JSON.stringify(resumed)}`);
        return socket;
      } catch (err) {
        if (this.stopped || attempt > 40) throw err;
        this.at += 1;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  }

  private dropped(): void {
    if (this.stopped) return;
    this.reconnects += 1;
    this.at += 1;
    this.connected = this.connect();
    this.connected.catch(() => undefined);
  }

  private onFrame(frame: Frame): void {
    if (frame.type !== 'event' || frame.name !== 'messageAdded') return;
    const message = (frame.data as { message: Message }).message;
    if (message.conversationId !== this.conversationId) return;
    this.hold(message);
    if (message.index > this.contiguous + 1) void this.fillGaps();
  }

  private hold(message: Message): void {
    if (this.messages.has(message.index)) this.redeliveries += 1;
    else this.messages.set(message.index, message);
  }

  /** GET .../messages?after=<contiguous> until no gap is left below the highest index held. */
  private fillGaps(): Promise<void> {
    this.filling ??= (async () => {
      try {
        const endpoint = this.endpoints[this.at % this.endpoints.length]!;
        const page = await this.account.api<{ messages: Message[] }>(
          endpoint, 'GET', `/conversations/${this.conversationId}/messages?after=${this.contiguous}&limit=100`,
        );
        for (const message of page.messages) if (!this.messages.has(message.index)) this.messages.set(message.index, message);
      } catch {
        // The server may be the one that just died; the next gap or waitFor tries again.
      } finally {
        this.filling = undefined;
      }
    })();
    return this.filling;
  }
}
