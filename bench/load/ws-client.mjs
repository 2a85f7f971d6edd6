// A minimal WebSocket client over `net`, for the load generator only.
//
// Why not the `ws` client: the load generator runs on one core and has to absorb hundreds of
// thousands of small frames per second, so it must cost far less per frame than the servers it
// measures. This client parses unmasked server frames in place and hands the payload to the
// caller as (buffer, start, end) without copying or decoding it; it never fragments or
// compresses. Client frames are masked as RFC 6455 requires (with a constant key: the server
// unmasks every byte either way, so its cost is the same).
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const MASK_KEY_LEN = 4;

/**
 * Opens a WebSocket. Resolves once the HTTP upgrade is answered with 101.
 *
 * @example
 * const ws = await connectWs({ host: '127.0.0.1', port: 8000, path: '/ws?token=x',
 *   onText: (buf, start, end) => console.log(buf.toString('utf8', start, end)) });
 * ws.send('{"type":"ping"}');
 */
export function connectWs({ host, port, path, localAddress, onOpen, onText, onClose, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress });
    sock.setNoDelay(true);
    let upgraded = false;
    let pending = null;
    let fragments = null;
    let closed = false;
    const timer = setTimeout(() => fail(new Error(`handshake timeout after ${timeoutMs} ms`)), timeoutMs);

    const client = {
      socket: sock,
      get closed() {
        return closed;
      },
      send(text) {
        if (closed) return false;
        return sock.write(encodeFrame(0x1, Buffer.from(text)));
      },
      close() {
        if (closed) return;
        closed = true;
        sock.end(encodeFrame(0x8, Buffer.from([0x03, 0xe8])));
        sock.destroySoon?.();
      },
      destroy() {
        closed = true;
        sock.destroy();
      },
      /**
       * Drops the connection with a TCP RST: no TIME_WAIT is left on this side, so the ~20,000
       * sockets of a connections run do not slow the connects of the next run from the same
       * source addresses (the kernel's port search walks every TIME_WAIT socket of a port).
       */
      reset() {
        closed = true;
        sock.resetAndDestroy();
      },
    };

    function fail(err) {
      clearTimeout(timer);
      if (!upgraded) reject(err);
      sock.destroy();
    }

    sock.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });

    sock.on('data', (chunk) => {
      if (pending !== null) {
        chunk = Buffer.concat([pending, chunk]);
        pending = null;
      }
      let off = 0;
      if (!upgraded) {
        const headEnd = chunk.indexOf('\r\n\r\n');
        if (headEnd < 0) {
          pending = chunk;
          return;
        }
        const head = chunk.toString('latin1', 0, headEnd);
        const status = Number(head.slice(9, 12));
        if (status !== 101) {
          const body = chunk.toString('utf8', headEnd + 4, Math.min(chunk.length, headEnd + 400));
          fail(new Error(`upgrade refused: ${head.split('\r\n')[0]} ${body}`));
          return;
        }
        upgraded = true;
        clearTimeout(timer);
        onOpen?.(client);
        resolve(client);
        off = headEnd + 4;
      }
      off = parseFrames(chunk, off);
      if (off < chunk.length) pending = chunk.subarray(off);
    });

    function parseFrames(buf, off) {
      const len = buf.length;
      while (len - off >= 2) {
        const b0 = buf[off];
        const b1 = buf[off + 1];
        let plen = b1 & 0x7f;
        let hdr = 2;
        if (plen === 126) {
          if (len - off < 4) break;
          plen = buf.readUInt16BE(off + 2);
          hdr = 4;
        } else if (plen === 127) {
          if (len - off < 10) break;
          plen = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
          hdr = 10;
        }
        if (b1 & 0x80) hdr += MASK_KEY_LEN; // servers never mask; tolerated, not unmasked
        if (len - off < hdr + plen) break;
        const start = off + hdr;
        const end = start + plen;
        off = end;
        onFrame(b0 & 0x80, b0 & 0x0f, buf, start, end);
        if (closed) return len;
      }
      return off;
    }

    function onFrame(fin, opcode, buf, start, end) {
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        if (!fin || fragments !== null) {
          fragments ??= [];
          fragments.push(Buffer.from(buf.subarray(start, end)));
          if (!fin) return;
          const whole = Buffer.concat(fragments);
          fragments = null;
          onText(whole, 0, whole.length, client);
          return;
        }
        onText(buf, start, end, client);
      } else if (opcode === 0x9) {
        if (!closed) sock.write(encodeFrame(0xa, Buffer.from(buf.subarray(start, end))));
      } else if (opcode === 0x8) {
        const code = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
        const reason = buf.toString('utf8', Math.min(end, start + 2), end);
        if (!closed) {
          closed = true;
          sock.end(encodeFrame(0x8, Buffer.from(buf.subarray(start, Math.min(end, start + 2)))));
        }
        client.closeCode = code;
        client.closeReason = reason;
      }
    }

    sock.on('error', (err) => fail(err));
    sock.on('close', () => {
      clearTimeout(timer);
      const wasClosed = closed;
      closed = true;
      if (!upgraded) reject(new Error('connection closed before the upgrade'));
      else onClose?.(client, wasClosed);
    });
  });
}

/** Builds one masked client frame (mask key 0, so the payload bytes are written as they are). */
function encodeFrame(opcode, payload) {
  const plen = payload.length;
  const ext = plen < 126 ? 0 : plen < 65536 ? 2 : 8;
  const hdr = 2 + ext + MASK_KEY_LEN;
  const out = Buffer.allocUnsafe(hdr + plen);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | plen;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(plen, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(plen / 2 ** 32), 2);
    out.writeUInt32BE(plen >>> 0, 6);
  }
  out.writeUInt32BE(0, 2 + ext);
  payload.copy(out, hdr);
  return out;
}
