import { LIMITS, type Message } from '@parley/protocol';
import { h, replace } from '../dom.js';
import { describeError } from '../errors.js';
import type { Conversation, Paginator } from '../sdk.js';
import { emptyState, errorState, loading } from './layout.js';
import { messageItem, type MessageActions } from './message-item.js';

const PAGE_SIZE = LIMITS.pageSizeDefault;

/**
 * The scrolling message area: newest at the bottom, mine on the right, others on the left.
 * Messages are kept in index order and deduplicated by index, so a live event and the reply
 * to my own send never show the same message twice.
 */
export class MessageList {
  readonly el: HTMLElement;
  private readonly list = h('ol', { class: 'message-list' });
  private readonly older = h('button', { type: 'button', class: 'btn btn-small load-older', hidden: true }, 'Load older messages');
  private readonly placeholder = h('div', { class: 'message-placeholder' });
  private readonly items = new Map<number, { el: HTMLElement; message: Message }>();
  private readonly actions: MessageActions;
  private page: Paginator<Message> | null = null;
  private loadingOlder = false;

  constructor(
    private readonly conversation: Conversation,
    private readonly myId: string,
  ) {
    this.actions = {
      conversation,
      myId,
      isAdmin: () => conversation.myRole === 'admin',
      changed: (message) => this.update(message),
    };
    this.el = h('div', { class: 'messages', role: 'log', 'aria-label': 'Messages', tabindex: 0 }, this.older, this.placeholder, this.list);
    this.older.addEventListener('click', () => void this.loadOlder());
    this.el.addEventListener('scroll', () => {
      if (this.el.scrollTop < 40 && this.page?.hasPrevPage) void this.loadOlder();
    });
  }

  /** Loads the newest page and scrolls to the bottom. */
  async load(): Promise<void> {
    replace(this.placeholder, loading('Loading messages…'));
    try {
      this.page = await this.conversation.getMessages({ limit: PAGE_SIZE });
      for (const message of this.page.items) this.insert(message);
      this.older.hidden = !this.page.hasPrevPage;
      this.updatePlaceholder();
      this.scrollToBottom();
    } catch (error) {
      replace(this.placeholder, errorState(describeError(error), () => void this.load()));
    }
  }

  /** Adds one message (live or just sent); keeps the view pinned to the bottom if it was. */
  add(message: Message): void {
    if (this.items.has(message.index)) return;
    const pinned = this.isNearBottom() || message.authorId === this.myId;
    this.insert(message);
    this.updatePlaceholder();
    if (pinned) this.scrollToBottom();
  }

  /**
   * Redraws a message that was edited or removed, if it is shown. An older version never
   * replaces a newer one (an edit's answer can arrive after the removal's event), and the
   * same version changes nothing (an edit box open on it stays open).
   */
  update(message: Message): void {
    const shown = this.items.get(message.index);
    if (!shown || shown.message.id !== message.id || version(shown.message) >= version(message)) return;
    this.redrawOne(shown, message);
  }

  /** Redraws every message, e.g. after my role changed (an admin may delete anyone's). */
  redraw(): void {
    for (const shown of this.items.values()) this.redrawOne(shown, shown.message);
  }

  private redrawOne(shown: { el: HTMLElement; message: Message }, message: Message): void {
    const el = messageItem(message, this.actions);
    shown.el.replaceWith(el);
    shown.el = el;
    shown.message = message;
  }

  /**
   * After a reconnect: fills in anything newer than what is shown (duplicates are dropped), and
   * redraws the newest page's messages that were edited or removed meanwhile.
   */
  async catchUp(): Promise<void> {
    if (!this.page) return this.load();
    try {
      const page = await this.conversation.getMessages({ limit: PAGE_SIZE });
      for (const message of page.items) {
        if (this.items.has(message.index)) this.update(message);
        else this.add(message);
      }
    } catch {
      // The SDK's own resume covers this too; a failed top-up is not worth a message.
    }
  }

  /** Fetches the page before the oldest one shown, keeping the reading position. */
  async loadOlder(): Promise<void> {
    if (!this.page?.hasPrevPage || this.loadingOlder) return;
    this.loadingOlder = true;
    this.older.disabled = true;
    this.older.textContent = 'Loading older messages…';
    const fromBottom = this.el.scrollHeight - this.el.scrollTop;
    try {
      this.page = await this.page.prevPage();
      for (const message of this.page.items) this.insert(message);
      this.el.scrollTop = this.el.scrollHeight - fromBottom;
      this.older.hidden = !this.page.hasPrevPage;
      this.older.textContent = 'Load older messages';
    } catch (error) {
      this.older.textContent = `Could not load older messages (${describeError(error)}). Try again`;
    } finally {
      this.loadingOlder = false;
      this.older.disabled = false;
    }
  }

  private insert(message: Message): void {
    if (this.items.has(message.index)) return;
    const el = messageItem(message, this.actions);
    const after = [...this.items.keys()].filter((i) => i > message.index).sort((a, b) => a - b)[0];
    const before = after === undefined ? null : (this.items.get(after)?.el ?? null);
    this.list.insertBefore(el, before);
    this.items.set(message.index, { el, message });
  }

  private updatePlaceholder(): void {
    if (this.items.size > 0) replace(this.placeholder);
    else replace(this.placeholder, emptyState('No messages yet', 'Say hello: your first message starts the conversation.'));
  }

  private isNearBottom(): boolean {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 80;
  }

  private scrollToBottom(): void {
    this.el.scrollTop = this.el.scrollHeight;
  }
}

/** How far a message has come: removed beats edited beats as sent; later edits beat earlier ones. */
function version(message: Message): string {
  if (message.removedAt !== undefined) return `2 ${message.removedAt}`;
  return message.editedAt === undefined ? '0' : `1 ${message.editedAt}`;
}
