import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { RequestLogController, createLogger, requestIdGenerator } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function appLogging(level: string) {
  const out = capture();
  const app = Fastify({ loggerInstance: createLogger(level, out.stream), genReqId: requestIdGenerator(), logController: new RequestLogController() });
  app.get('/ok', async () => ({ ok: true }));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  await app.ready();
  return { app, lines: out.lines };
}

describe('request logging', () => {
  it('writes one info line per request with method, url, status, time and request id', async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({ method: 'GET', url: '/ok?limit=5', headers: { authorization: 'Bearer secret-token', cookie: 'parley_session=s' } });
    const logged = lines();
    expect(logged).toHaveLength(1);
    const [line] = logged;
    expect(line).toMatchObject({ level: 30, msg: 'request completed', req: { method: 'GET', url: '/ok?limit=5' }, res: { statusCode: 200 } });
    expect(line?.reqId).toMatch(/^CN[0-9a-f]{16}$/);
    expect(typeof line?.responseTime).toBe('number');
    expect(JSON.stringify(logged)).not.toContain('secret-token');
    await app.close();
  });

  it('keeps the incoming request line at debug level, and logs failures as errors', async () => {
    const { app, lines } = await appLogging('debug');
    await app.inject({ method: 'GET', url: '/ok' });
    await app.inject({ method: 'GET', url: '/boom' });
    const msgs = lines().map((l) => `${String(l.level)} ${String(l.msg)}`);
    expect(msgs.slice(0, 2)).toEqual(['20 incoming request', '30 request completed']);
    expect(msgs).toContain('50 boom');
    expect(new Set(lines().map((l) => l.reqId)).size).toBe(2);
    await app.close();
  });
});

describe('createLogger', () => {
  it('still redacts secrets wherever they are logged', () => {
    const out = capture();
    const log = createLogger('info', out.stream);
    log.info({ req: { headers: { authorization: 'Bearer t1', cookie: 'c1' } }, password: 'p1', user: { token: 't2', secret: 's1', password: 'p2' } }, 'x');
    const text = JSON.stringify(out.lines());
    for (const secret of ['t1', 'c1', 'p1', 't2', 's1', 'p2']) expect(text).not.toContain(`"${secret}"`);
    expect(text).toContain('[redacted]');
  });
});

describe('requestIdGenerator', () => {
  it('gives distinct ids of the old shape', () => {
    const next = requestIdGenerator();
    const ids = Array.from({ length: 1000 }, () => next());
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^CN[0-9a-f]{16}$/);
    expect(requestIdGenerator()().slice(0, 10)).not.toBe(ids[0]?.slice(0, 10));
  });
});

describe('the stdout logger', () => {
  // A child process, so that its stdout and its exit are real: every line logged before
  // exiting reaches stdout, however the process ends (except SIGKILL).
  const runChild = (ending: string): Promise<{ lines: Record<string, unknown>[]; code: number | null }> =>
    new Promise((resolve, reject) => {
      const script = `
        import { createLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).pathname)};
        const log = createLogger('info');
        for (let i = 0; i < 2000; i += 1) log.info({ i }, 'line');
        ${ending}
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, lines: out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) }));
    });

  it('writes every line, in order, when the process exits', async () => {
    const { code, lines } = await runChild('process.exit(0);');
    expect(code).toBe(0);
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('writes the line of a quiet process within the flush interval, without waiting for more lines or the exit', async () => {
    const script = `
      import { createLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).pathname)};
      createLogger('info').info('alone');
      setTimeout(() => undefined, 30_000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.on('error', reject);
        child.on('close', () => reject(new Error(`the child ended before writing its line: ${out}`)));
      });
      expect(JSON.parse(line)).toMatchObject({ msg: 'alone' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writes every line when the process dies of an uncaught exception', async () => {
    const { code, lines } = await runChild("setImmediate(() => { throw new Error('crash'); });");
    expect(code).toBe(1);
    expect(lines).toHaveLength(2000);
  });
});
