import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * One server-to-client text frame, already framed: FIN + opcode 1, unmasked, uncompressed,
 * header and UTF-8 payload in one Buffer. Built once per event and written as it is to every
 * recipient's socket.
 */
export interface TextFrame {
  readonly bytes: Buffer;
  /** Where the payload starts in `bytes` (2, 4 or 10). */
  readonly payloadOffset: number;
}

/**
 * Frames `text` as one final, unmasked text frame (RFC 6455 5.2), in a single allocation:
 * byte-for-byte what `ws`'s `Sender.frame` + `Buffer.concat` give for a server.
 *
 * @example
 * const frame = encodeTextFrame('{"type":"pong"}'); // frame.bytes[0] === 0x81
 */
export function encodeTextFrame(text: string): TextFrame {
  const length = Buffer.byteLength(text, 'utf8');
  const payloadOffset = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const bytes = Buffer.allocUnsafe(payloadOffset + length);
  bytes[0] = 0x81;
  if (payloadOffset === 2) {
    bytes[1] = length;
  } else if (payloadOffset === 4) {
    bytes[1] = 126;
    bytes.writeUInt16BE(length, 2);
  } else {
    bytes[1] = 127;
    bytes.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    bytes.writeUInt32BE(length >>> 0, 6);
  }
  bytes.write(text, payloadOffset, length, 'utf8');
  return { bytes, payloadOffset };
}

/** The parts of `ws`'s Sender that say whether it has anything of its own in flight. */
interface SenderInternals {
  /** 0 (DEFAULT) unless a compression or a Blob read is in progress. */
  _state: number;
  /** Frames waiting behind such an operation. */
  _queue: unknown[];
  /** False between the fragments of a message sent with `fin: false`. */
  _firstFragment: boolean;
  /** Bytes of the frames in `_queue` (part of `ws.bufferedAmount`). */
  _bufferedBytes: number;
}

interface WebSocketInternals {
  _socket: Socket | null;
  _sender: SenderInternals | null;
  _extensions: Record<string, unknown>;
}

const OPEN = 1;

/**
 * Cork every socket written in this turn of the event loop and uncork them together, so
 * several frames for one socket (an ack and the events of a committed batch) leave in one
 * `writev` instead of one syscall each. Flushed on `process.nextTick`: after the current
 * callback and the microtasks it started (every delivery of one committed batch), before
 * the loop polls for I/O again, so no frame waits for anything but the code already running.
 */
export class TurnCork {
  private readonly corked: SocketWriter[] = [];
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    const corked = this.corked;
    // A writer corked again while this runs (something writing from inside uncork) is
    // appended and uncorked by this same loop.
    for (let i = 0; i < corked.length; i++) {
      try {
        corked[i]!.uncork();
      } catch {
        // A socket that fails here is being destroyed; the others must still be uncorked.
      }
    }
    corked.length = 0;
  };

  /** @internal Registers a writer that has just corked its socket. */
  add(writer: SocketWriter): void {
    this.corked.push(writer);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }
}

/**
 * Writes pre-framed text frames to one WebSocket's TCP socket directly (one `socket.write`,
 * no re-framing), the way `ws` itself writes them, and falls back to `ws.send` whenever that
 * would not be safe:
 *
 * - a compression extension was negotiated (the gateway disables permessage-deflate, so this
 *   is only a guard): `ws` would then compress asynchronously and queue later frames;
 * - `ws`'s Sender has an operation in progress or frames queued behind one (compression or
 *   a Blob being read) or is between the fragments of a message: a frame written now would
 *   overtake them or land inside a fragmented message;
 * - the WebSocket is not OPEN (closing: `ws.send` drops the frame, as it always has) or the
 *   socket is no longer writable;
 * - `ws`'s internals are not what this was written against (another major version).
 *
 * Without compression `ws` writes every frame synchronously, so direct writes and `ws.send`
 * / ping / pong / close frames never interleave within a frame. Direct writes land in the
 * socket's own buffer, which `ws.bufferedAmount` already counts (`socket.writableLength` +
 * the Sender's queued bytes), so the slow-consumer limit keeps working.
 *
 * @example
 * const writer = new SocketWriter(ws, cork);
 * writer.write(encodeTextFrame(JSON.stringify(event)));
 */
export class SocketWriter {
  private readonly socket: Socket | null;
  private readonly sender: SenderInternals | null;
  private corked = false;

  constructor(
    readonly ws: WebSocket,
    private readonly cork: TurnCork | null = null,
  ) {
    const internals = ws as unknown as WebSocketInternals;
    const socket = internals._socket;
    const sender = internals._sender;
    const usable =
      socket !== null &&
      typeof socket === 'object' &&
      typeof socket.write === 'function' &&
      typeof socket.cork === 'function' &&
      sender !== null &&
      typeof sender === 'object' &&
      typeof sender._state === 'number' &&
      Array.isArray(sender._queue) &&
      typeof sender._firstFragment === 'boolean' &&
      typeof sender._bufferedBytes === 'number' &&
      typeof internals._extensions === 'object' &&
      Object.keys(internals._extensions).length === 0;
    this.socket = usable ? socket : null;
    this.sender = usable ? sender : null;
  }

  /** True when frames go straight to the socket (false: every frame goes through `ws.send`). */
  get direct(): boolean {
    return this.socket !== null;
  }

  /**
   * Bytes written but not yet handed to the kernel. `ws.bufferedAmount` is the socket's
   * buffered length plus what the Sender holds, so it counts the direct writes too.
   */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Writes one frame; dropped, like `ws.send` drops it, once the WebSocket is closing. */
  write(frame: TextFrame): void {
    const ws = this.ws;
    if (ws.readyState !== OPEN) return;
    const socket = this.socket;
    const sender = this.sender;
    if (socket !== null && sender !== null && sender._state === 0 && sender._queue.length === 0 && sender._firstFragment && socket.writable) {
      if (!this.corked && this.cork !== null) {
        this.corked = true;
        socket.cork();
        this.cork.add(this);
      }
      socket.write(frame.bytes);
      return;
    }
    ws.send(frame.bytes.subarray(frame.payloadOffset), { binary: false });
  }

  /** Frames and writes one text message. */
  writeText(text: string): void {
    if (this.ws.readyState !== OPEN) return;
    this.write(encodeTextFrame(text));
  }

  /** @internal Called by the TurnCork at the end of the turn. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket?.uncork();
  }
}
