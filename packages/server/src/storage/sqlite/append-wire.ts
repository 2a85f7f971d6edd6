import BetterSqlite3 from 'better-sqlite3';
import type { AppendResult, NewMessage } from '../storage.js';
import type { Outcome } from './append-batch.js';

/*
 * The messages between the event loop and the append worker. Everything is plain objects and
 * strings, so the structured clone stays cheap; errors travel as name, message and code,
 * because a clone of an Error keeps neither its class nor its `code`.
 */

/** Settings of the worker's connection, fixed at start. */
export interface AppendWorkerData {
  file: string;
  busyTimeoutMs: number;
  journalSizeLimit: number;
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  code: string | undefined;
}

/** One item's outcome as it crosses the thread boundary. */
export type WireOutcome = { ok: true; result: AppendResult } | { ok: false; error: WireError };

/** Event loop -> worker. */
export type ToWorker =
  | { type: 'batch'; messages: NewMessage[] }
  | { type: 'autocheckpoint'; pages: number }
  | { type: 'stop' };

/** Worker -> event loop: one answer per batch, in order, after `ready`. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; outcomes: WireOutcome[] }
  | { type: 'failed'; error: WireError };

/**
 * Flattens an error for `postMessage`.
 *
 * @example
 * toWire(new Error('disk full')); // { name: 'Error', message: 'disk full', code: undefined }
 */
export function toWire(error: unknown): WireError {
  const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return { name: text(e?.name) ?? 'Error', message: text(e?.message) ?? String(error), code: text(e?.code) };
}

/**
 * Rebuilds an error from the worker: a SQLite error as a `SqliteError` with its code, as the
 * in-thread path would have thrown it.
 *
 * @example
 * fromWire({ name: 'SqliteError', message: 'UNIQUE constraint failed', code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
 */
export function fromWire(error: WireError): Error {
  if (error.code !== undefined) return new BetterSqlite3.SqliteError(error.message, error.code);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

/**
 * An outcome ready to post.
 *
 * @example
 * outcomeToWire({ ok: false, error }); // { ok: false, error: { name, message, code } }
 */
export function outcomeToWire(outcome: Outcome): WireOutcome {
  return outcome.ok ? outcome : { ok: false, error: toWire(outcome.error) };
}

/**
 * An outcome as received.
 *
 * @example
 * const outcome = outcomeFromWire(wire);
 */
export function outcomeFromWire(outcome: WireOutcome): Outcome {
  return outcome.ok ? outcome : { ok: false, error: fromWire(outcome.error) };
}
