import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { PingFrame, ReadFrame, ResumeFrame, SendFrame, TokenFrame, TypingFrame, WatchPresenceFrame, type ClientFrame } from '@parley/protocol';
import { AppError } from '../errors.js';
import { assertNoNul } from '../nul-text.js';

/** The limits of a plain string schema (`type`, `minLength`, `maxLength` and nothing else). */
function stringLimits(schema: TSchema | undefined): { min: number; max: number } | null {
  if (!schema || schema.type !== 'string') return null;
  for (const key of Object.keys(schema)) if (key !== 'type' && key !== 'minLength' && key !== 'maxLength') return null;
  return { min: (schema.minLength as number | undefined) ?? 0, max: (schema.maxLength as number | undefined) ?? Infinity };
}

/**
 * A check of the common `send` frame (no `attributes`) that allocates nothing, read off the
 * SendFrame schema itself; null (always use TypeBox) if the schema has become anything it
 * does not understand. It only ever accepts what the TypeBox check accepts: anything else
 * (attributes, an unexpected key, a bad field) goes through TypeBox, which names the error.
 */
function compilePlainSendCheck(): ((value: Record<string, unknown>) => boolean) | null {
  const props = SendFrame.properties as Record<string, TSchema>;
  const keys = Object.keys(props).sort().join(',');
  if (keys !== 'attributes,body,clientId,conversationId,ref,type' || SendFrame.additionalProperties !== false) return null;
  if (props.type?.const !== 'send' || Object.keys(props.type).some((k) => k !== 'type' && k !== 'const')) return null;
  const ref = stringLimits(props.ref);
  const conversationId = stringLimits(props.conversationId);
  const clientId = stringLimits(props.clientId);
  const body = stringLimits(props.body);
  if (!ref || !conversationId || !clientId || !body) return null;
  const within = (v: unknown, l: { min: number; max: number }): boolean =>
    typeof v === 'string' && v.length >= l.min && v.length <= l.max;
  return (value) => {
    for (const key in value) {
      if (key !== 'type' && key !== 'ref' && key !== 'conversationId' && key !== 'clientId' && key !== 'body') return false;
    }
    return (
      value.type === 'send' &&
      (value.ref === undefined || within(value.ref, ref)) &&
      within(value.conversationId, conversationId) &&
      within(value.clientId, clientId) &&
      within(value.body, body)
    );
  };
}

/** @internal Exported for the test that holds it to the TypeBox check. */
export const plainSendCheck = compilePlainSendCheck();

const CHECKS: Record<ClientFrame['type'], TypeCheck<TSchema>> = {
  send: TypeCompiler.Compile(SendFrame),
  resume: TypeCompiler.Compile(ResumeFrame),
  ping: TypeCompiler.Compile(PingFrame),
  typing: TypeCompiler.Compile(TypingFrame),
  read: TypeCompiler.Compile(ReadFrame),
  token: TypeCompiler.Compile(TokenFrame),
  watchPresence: TypeCompiler.Compile(WatchPresenceFrame),
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
  // Only the escape \u0000 can put a NUL into parsed JSON (a raw one is not valid JSON).
  if (text.includes('\\u0000')) assertNoNul('frame', value);
  const type = (value as { type?: unknown }).type;
  if (type === 'send' && plainSendCheck !== null && plainSendCheck(value as Record<string, unknown>)) return value as ClientFrame;
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
