import { createHash } from 'node:crypto';
import type { ConversationSummary, Message, Participant } from '@parley/protocol';
import type { AppError } from '../../errors.js';

/*
 * Parley's records as Twilio Conversations v1 resources: snake_case JSON, `sid`s, attributes as
 * JSON text, times without milliseconds, 0-based message indexes, and the paging `meta` the
 * official `twilio` package follows. Parley's ids already have Twilio's prefixes (CH, IM); the
 * sids Parley has no record for (account, service, participant, role) are derived, stably.
 */

/** 32 hex digits of a stable hash, for derived sids. */
function hex32(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** The "account" of a key: what the `twilio` package is given as `accountSid` with an API key. */
export const accountSidOf = (keyId: string): string => `AC${hex32(`account:${keyId}`)}`;
/** One chat service per deployment. */
export const SERVICE_SID = `IS${hex32('parley:service')}`;
/** A participant's sid: the conversation and the user, hashed. */
export const participantSidOf = (conversationId: string, userId: string): string => `MB${hex32(`${conversationId}:${userId}`)}`;
const roleSidOf = (role: string): string => `RL${hex32(`role:${role}`)}`;

/** Twilio writes times as `2015-12-16T22:18:37Z`. */
const twilioTime = (iso: string): string => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Where resources live, for their `url`s and `links`. */
export interface Place {
  /** `https://chat.example.com/v1`, no trailing slash. */
  base: string;
  accountSid: string;
}

export function conversationResource(place: Place, summary: ConversationSummary) {
  const c = summary.conversation;
  const url = `${place.base}/Conversations/${c.id}`;
  return {
    sid: c.id,
    account_sid: place.accountSid,
    chat_service_sid: SERVICE_SID,
    messaging_service_sid: null,
    friendly_name: c.title,
    unique_name: c.uniqueName,
    attributes: JSON.stringify(c.attributes),
    state: 'active',
    date_created: twilioTime(c.createdAt),
    date_updated: twilioTime(c.updatedAt),
    timers: {},
    url,
    links: { participants: `${url}/Participants`, messages: `${url}/Messages` },
    bindings: null,
  };
}

export function participantResource(place: Place, conversationId: string, p: Participant) {
  const sid = participantSidOf(conversationId, p.userId);
  return {
    account_sid: place.accountSid,
    conversation_sid: conversationId,
    sid,
    identity: p.username,
    attributes: '{}',
    messaging_binding: null,
    role_sid: roleSidOf(p.role),
    date_created: twilioTime(p.updatedAt),
    date_updated: twilioTime(p.updatedAt),
    url: `${place.base}/Conversations/${conversationId}/Participants/${sid}`,
    // Twilio's index is 0-based, Parley's 1-based: nothing read is -1, so null.
    last_read_message_index: p.lastReadIndex > 0 ? p.lastReadIndex - 1 : null,
    last_read_timestamp: null,
  };
}

export function messageResource(place: Place, m: Message) {
  const url = `${place.base}/Conversations/${m.conversationId}/Messages/${m.id}`;
  return {
    account_sid: place.accountSid,
    conversation_sid: m.conversationId,
    sid: m.id,
    index: m.index - 1,
    author: m.author,
    body: m.removedAt === undefined ? m.body : null,
    media: null,
    attributes: JSON.stringify(m.attributes),
    participant_sid: participantSidOf(m.conversationId, m.authorId),
    date_created: twilioTime(m.createdAt),
    date_updated: twilioTime(m.editedAt ?? m.removedAt ?? m.createdAt),
    url,
    delivery: null,
    links: { delivery_receipts: `${url}/Receipts`, channel_metadata: `${url}/ChannelMetadata` },
    content_sid: null,
  };
}

/**
 * A page of a list in Twilio's shape: the items under `key`, and `meta` with the absolute URL
 * of the next page (null on the last), which the `twilio` package follows for `list()`/`each()`.
 *
 * @example
 * page('conversations', items, { url, pageSize: 50, page: 0, next: 'CURSOR' });
 */
export function page<T>(
  key: string,
  items: T[],
  at: { url: string; pageSize: number; page: number; next: string | null; query?: Record<string, string> },
) {
  const link = (extra: Record<string, string>): string => `${at.url}?${new URLSearchParams({ ...at.query, PageSize: String(at.pageSize), ...extra })}`;
  return {
    [key]: items,
    meta: {
      page: at.page,
      page_size: at.pageSize,
      first_page_url: link({ Page: '0' }),
      previous_page_url: null,
      url: link({ Page: String(at.page) }),
      next_page_url: at.next === null ? null : link({ Page: String(at.page + 1), PageToken: at.next }),
      key,
    },
  };
}

/** Twilio's numeric error codes for Parley's statuses (the well-known ones: 20003, 20404, 20429 ...). */
const TWILIO_CODES: Record<number, number> = {
  400: 20001,
  401: 20003,
  403: 20403,
  404: 20404,
  409: 20409,
  410: 20404,
  413: 20001,
  415: 20001,
  429: 20429,
  500: 20500,
  503: 20503,
};

/**
 * An error as Twilio's REST API writes it, which the `twilio` package turns into a
 * `RestException` (`status`, `code`, `message`, `moreInfo`); `parley_code` names Parley's own
 * catalogue entry (docs/errors.md).
 */
export function twilioError(error: AppError) {
  const code = TWILIO_CODES[error.status] ?? (error.status >= 500 ? 20500 : 20001);
  return {
    code,
    message: error.message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status: error.status,
    parley_code: error.code,
  };
}
