// Counts what Parley publishes on Redis during a run, with a raw RESP connection (no client
// library): PSUBSCRIBE to every channel and count the published payloads that carry a bench
// message body. Other tenants of the same Redis do not disturb the count, since only payloads
// holding this run's bodies (`~P~<timestamp>`) are counted.
import net from 'node:net';

const MARK = Buffer.from('~P~');

/** Connects to `redisUrl` and starts counting. */
export function watchRedis(redisUrl) {
  const url = new URL(redisUrl);
  const sock = net.connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
  const counts = { published: 0, withBody: 0, bodies: 0 };
  let buf = Buffer.alloc(0);
  const ready = new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.once('connect', () => {
      if (url.password) sock.write(cmd(['AUTH', ...(url.username ? [decodeURIComponent(url.username)] : []), decodeURIComponent(url.password)]));
      sock.write(cmd(['PSUBSCRIBE', '*']));
      resolve();
    });
  });
  sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    for (;;) {
      const parsed = parseArray(buf, off);
      if (!parsed) break;
      off = parsed.next;
      const [kind, , , payload] = parsed.items;
      if (kind?.toString() === 'pmessage' && payload) {
        counts.published += 1;
        let n = 0;
        for (let at = payload.indexOf(MARK); at >= 0; at = payload.indexOf(MARK, at + 1)) n += 1;
        if (n > 0) counts.withBody += 1;
        counts.bodies += n;
      }
    }
    buf = buf.subarray(off);
  });
  sock.on('error', () => {});
  return { ready, counts, close: () => sock.destroy() };
}

function cmd(parts) {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** Parses one RESP reply at `off` (arrays of bulk strings, or a simple line); null if incomplete. */
function parseArray(buf, off) {
  const eol = buf.indexOf('\r\n', off);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[off]);
  if (type !== '*') return { items: [], next: eol + 2 };
  const n = Number(buf.toString('latin1', off + 1, eol));
  let p = eol + 2;
  const items = [];
  for (let i = 0; i < n; i += 1) {
    const e = buf.indexOf('\r\n', p);
    if (e < 0) return null;
    const t = String.fromCharCode(buf[p]);
    if (t === '$') {
      const len = Number(buf.toString('latin1', p + 1, e));
      if (buf.length < e + 2 + len + 2) return null;
      items.push(buf.subarray(e + 2, e + 2 + len));
      p = e + 2 + len + 2;
    } else {
      items.push(buf.subarray(p + 1, e));
      p = e + 2;
    }
  }
  return { items, next: p };
}
