import BetterSqlite3 from 'better-sqlite3';
import type { AppendResult } from '../storage.js';
import type { BatchItem, Outcome } from './append-batch.js';

/*
 * The messages between the event loop and the append worker. A batch travels as one flat
 * array of strings (7 per message) and its answer as one flat array (3 entries per new
 * message: index, author, timestamp): the structured clone pays per object far more than per
 * string (measured: ~1.4 us per message object against ~0.4 us for its 7 strings, and ~2.9
 * against ~0.1 us per result), and the event loop already holds every message, so a new one's
 * record is rebuilt there (`storedResult`). The wire JSON the worker built for `message_json`
 * comes back with it, so that the event loop need not serialise the message again. Only rare
 * outcomes (a duplicate, a refusal, an error) travel as objects; errors as name, message and
 * code, because a clone of an Error keeps neither its class nor its `code`.
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

/** A rare item outcome (not a new message) as it crosses the thread boundary. */
export type WireOutcome = { ok: true; result: AppendResult } | { ok: false; error: WireError };

/** A batch's outcomes, flat: `index, author, createdAt, json` for a new message, else one `WireOutcome`. */
export type WireOutcomes = (number | string | WireOutcome)[];

/** Event loop -> worker. */
export type ToWorker =
  | { type: 'batch'; items: (string | null)[] }
  | { type: 'autocheckpoint'; pages: number }
  | { type: 'stop' };

/** Worker -> event loop: one answer per batch, in order, after `ready`. */
export type FromWorker =
  | { type: 'ready'; priorityRaised: boolean }
  | { type: 'done'; outcomes: WireOutcomes }
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

const ITEM_FIELDS = 7;

/**
 * A batch as one flat array of strings, in order.
 *
 * @example
 * worker.postMessage({ type: 'batch', items: packItems(items) });
 */
export function packItems(items: readonly BatchItem[]): (string | null)[] {
  const fields: (string | null)[] = new Array<string | null>(items.length * ITEM_FIELDS);
  let k = 0;
  for (const m of items) {
    fields[k++] = m.id;
    fields[k++] = m.conversationId;
    fields[k++] = m.authorId;
    fields[k++] = m.body;
    fields[k++] = m.clientId;
    fields[k++] = m.attributes;
    fields[k++] = m.createdAt;
  }
  return fields;
}

/**
 * The batch `packItems` flattened.
 *
 * @example
 * const items = unpackItems(message.items);
 */
export function unpackItems(fields: readonly (string | null)[]): BatchItem[] {
  const items: BatchItem[] = [];
  for (let k = 0; k + ITEM_FIELDS <= fields.length; k += ITEM_FIELDS) {
    items.push({
      id: fields[k] as string,
      conversationId: fields[k + 1] as string,
      authorId: fields[k + 2] as string,
      body: fields[k + 3] as string,
      clientId: fields[k + 4] ?? null,
      attributes: fields[k + 5] as string,
      createdAt: fields[k + 6] as string,
    });
  }
  return items;
}

/**
 * A batch's outcomes ready to post: a new message as four entries, anything else as one object.
 *
 * @example
 * port.postMessage({ type: 'done', outcomes: packOutcomes(outcomes) });
 */
export function packOutcomes(outcomes: readonly Outcome[]): WireOutcomes {
  const flat: WireOutcomes = [];
  for (const outcome of outcomes) {
    if (!outcome.ok) flat.push({ ok: false, error: toWire(outcome.error) });
    else if (outcome.result.kind === 'appended') {
      flat.push(outcome.result.index, outcome.result.author, outcome.result.createdAt, outcome.result.json);
    }
    else flat.push({ ok: true, result: outcome.result });
  }
  return flat;
}

/**
 * The outcomes `packOutcomes` flattened, one per item.
 *
 * @example
 * settle(batch, unpackOutcomes(message.outcomes));
 */
export function unpackOutcomes(flat: WireOutcomes): Outcome[] {
  const outcomes: Outcome[] = [];
  for (let k = 0; k < flat.length; ) {
    const head = flat[k];
    if (typeof head === 'number') {
      const result = { kind: 'appended', index: head, author: flat[k + 1] as string, createdAt: flat[k + 2] as string, json: flat[k + 3] as string } as const;
      outcomes.push({ ok: true, result });
      k += 4;
    } else if (typeof head === 'object') {
      outcomes.push(head.ok ? head : { ok: false, error: fromWire(head.error) });
      k += 1;
    } else throw new Error('malformed append outcomes from the worker');
  }
  return outcomes;
}
