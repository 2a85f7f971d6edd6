import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { PingFrame, ReadFrame, ResumeFrame, SendFrame, TokenFrame, TypingFrame, type ClientFrame } from '@parley/protocol';
import { AppError } from '../errors.js';

const CHECKS: Record<ClientFrame['type'], TypeCheck<TSchema>> = {
  send: TypeCompiler.Compile(SendFrame),
  resume: TypeCompiler.Compile(ResumeFrame),
  ping: TypeCompiler.Compile(PingFrame),
  typing: TypeCompiler.Compile(TypingFrame),
  read: TypeCompiler.Compile(ReadFrame),
  token: TypeCompiler.Compile(TokenFrame),
};

/** The `ref` of a frame that failed validation, when it has a usable one, to echo on the error. */
export function refOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = (value as { ref?: unknown }).ref;
  return typeof ref === 'string' && ref.length <= 64 ? ref : undefined;
}

/**
 * Parses and validates one client frame; throws an AppError naming the problem
 * (`malformed_json`, `unknown_frame`, `validation_failed` with the field path).
 *
 * @example
 * const frame = parseFrame('{"type":"ping"}'); // { type: 'ping' }
 */
export function parseFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('malformed_json', 'The frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('validation_failed', 'A frame must be a JSON object with a "type"');
  }
  const type = (value as { type?: unknown }).type;
  const check = typeof type === 'string' ? CHECKS[type as ClientFrame['type']] : undefined;
  if (!check) {
    throw new AppError('unknown_frame', `Unknown frame type ${JSON.stringify(type ?? null)}; expected one of ${Object.keys(CHECKS).join(', ')}`);
  }
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    const path = first?.path ? `frame${first.path.replaceAll('/', '.')}` : 'frame';
    throw new AppError('validation_failed', `${path}: ${first?.message ?? 'invalid'}`);
  }
  return value as ClientFrame;
}
