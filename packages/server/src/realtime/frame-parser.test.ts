import { describe, expect, it } from 'vitest';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { LIMITS, SendFrame } from '@parley/protocol';
import { parseFrame, plainSendCheck } from './frame-parser.js';

const typebox = TypeCompiler.Compile(SendFrame);

function cases(): Array<Record<string, unknown>> {
  const base: Record<string, unknown> = { type: 'send', ref: 'r1', conversationId: 'CH1', clientId: 'c1', body: 'hello' };
  const out: Array<Record<string, unknown>> = [base, { ...base, ref: undefined }];
  const { ref: _ref, ...noRef } = base;
  out.push(noRef);
  const lengths: Record<string, number[]> = {
    ref: [0, 1, 64, 65],
    conversationId: [0, 1, 64, 65],
    clientId: [0, 1, LIMITS.clientIdMax, LIMITS.clientIdMax + 1],
    body: [0, 1, LIMITS.messageBodyMax, LIMITS.messageBodyMax + 1],
  };
  for (const [key, ls] of Object.entries(lengths)) {
    for (const l of ls) out.push({ ...base, [key]: 'x'.repeat(l) });
    for (const bad of [null, 1, true, [], {}, ['x']]) out.push({ ...base, [key]: bad });
    const { [key]: _gone, ...missing } = base;
    out.push(missing);
  }
  out.push({ ...base, type: 'ping' }, { ...base, type: 'Send' }, { ...base, extra: 1 }, { ...base, attributes: { a: 1 } });
  out.push({ ...base, attributes: null }, JSON.parse('{"type":"send","conversationId":"C","clientId":"c","body":"b","__proto__":{}}'));
  out.push({ ...base, body: '😀'.repeat(LIMITS.messageBodyMax / 2) }, { ...base, body: '😀'.repeat(LIMITS.messageBodyMax / 2 + 1) });
  return out;
}

describe('parseFrame', () => {
  it('checks plain send frames without TypeBox, accepting exactly what TypeBox accepts', () => {
    expect(plainSendCheck).not.toBeNull();
    for (const value of cases()) {
      const fast = plainSendCheck!(value);
      const full = typebox.Check(value);
      if (fast) expect(full, JSON.stringify(value)).toBe(true);
      if (!('attributes' in value)) expect(fast, JSON.stringify(value)).toBe(full);
    }
  });

  it('still names the error of a bad send frame, and accepts attributes through TypeBox', () => {
    expect(() => parseFrame(JSON.stringify({ type: 'send', conversationId: 'CH1', clientId: 'c' }))).toThrow(/body/);
    expect(() => parseFrame(JSON.stringify({ type: 'send', conversationId: 'CH1', clientId: 'c', body: 'b', x: 1 }))).toThrow();
    const withAttributes = { type: 'send', conversationId: 'CH1', clientId: 'c', body: 'b', attributes: { n: 1 } };
    expect(parseFrame(JSON.stringify(withAttributes))).toEqual(withAttributes);
    const plain = { type: 'send', ref: 'r', conversationId: 'CH1', clientId: 'c', body: 'b' };
    expect(parseFrame(JSON.stringify(plain))).toEqual(plain);
  });

  it('refuses the NUL character in any field, and keeps a backslash-u0000 text', () => {
    expect(() => parseFrame('{"type":"send","conversationId":"C","clientId":"c","body":"a\\u0000b"}')).toThrow(/frame\.body must not contain the NUL/);
    expect(() => parseFrame('{"type":"send","conversationId":"C","clientId":"c","body":"b","attributes":{"a":["\\u0000"]}}')).toThrow(/frame\.attributes\.a\[0\]/);
    expect(() => parseFrame('{"type":"typing","conversationId":"C\\u0000"}')).toThrow(/frame\.conversationId/);
    expect(parseFrame('{"type":"send","conversationId":"C","clientId":"c","body":"\\\\u0000"}')).toMatchObject({ body: '\\u0000' });
  });

  it('refuses indexes beyond what the databases store', () => {
    expect(() => parseFrame('{"type":"read","conversationId":"C","index":2147483648}')).toThrow(/frame\.index/);
    expect(() => parseFrame('{"type":"resume","positions":{"C":1e20}}')).toThrow(/frame\.positions/);
    expect(parseFrame('{"type":"read","conversationId":"C","index":2147483647}')).toMatchObject({ index: 2147483647 });
  });
});

