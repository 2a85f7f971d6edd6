import { h, replace } from '../dom.js';
import type { AppContext, View } from '../context.js';
import type { Route } from '../router.js';
import type { Client } from '../sdk.js';
import { ConversationStore, type Notice } from '../state/conversation-store.js';
import { chatView } from './chat.js';
import { connectionBanner } from './connection-banner.js';
import { emptyState } from './layout.js';
import { newConversationView } from './new-conversation.js';
import { sidebar } from './sidebar.js';

type ShellRoute = Extract<Route, { name: 'home' | 'new' | 'chat' }>;

/**
 * The signed-in layout: connection banner, notices, sidebar and the main pane. It lives as
 * long as the session, so moving between conversations keeps the sidebar and its state.
 */
export class AppShell {
  readonly el: HTMLElement;
  readonly store: ConversationStore;
  private readonly main = h('main', { class: 'main-pane', id: 'main' });
  private readonly toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite', 'aria-label': 'Notifications' });
  private readonly banner: { el: HTMLElement; dispose(): void };
  private view: View | null = null;

  constructor(
    private readonly ctx: AppContext,
    readonly client: Client,
    onSignOut: () => void,
  ) {
    this.store = new ConversationStore(client);
    this.store.onNotice = (notice) => this.toast(notice.text, notice.kind);
    this.banner = connectionBanner(client);
    this.el = h('div', { class: 'shell' }, this.banner.el, this.toasts, h('div', { class: 'shell-body' }, sidebar(ctx, this.store, onSignOut), this.main));
    void this.store.load();
  }

  /** Shows one of the signed-in routes in the main pane. */
  show(route: ShellRoute): void {
    this.view?.dispose?.();
    this.el.dataset.view = route.name === 'home' ? 'list' : 'detail';
    this.view = this.viewFor(route);
    replace(this.main, this.view.el);
    this.store.activeId = route.name === 'chat' ? route.conversationId : null;
  }

  /** A notice that stays a while and can be dismissed. */
  toast(text: string, kind: Notice['kind'] = 'info'): void {
    const dismiss = h('button', { type: 'button', class: 'btn btn-tiny btn-ghost', 'aria-label': 'Dismiss notice' }, '×');
    const item = h('div', { class: `toast toast-${kind}` }, h('span', {}, text), dismiss);
    dismiss.addEventListener('click', () => item.remove());
    this.toasts.append(item);
    setTimeout(() => item.remove(), 12_000);
  }

  dispose(): void {
    this.view?.dispose?.();
    this.banner.dispose();
    this.store.dispose();
  }

  private viewFor(route: ShellRoute): View {
    if (route.name === 'new') return { el: newConversationView(this.ctx, this.store) };
    if (route.name === 'chat') return chatView(this.ctx, this.store, route.conversationId, this);
    document.title = 'Conversations · Parley';
    const el = h(
      'section',
      { class: 'pane-page pane-empty', 'aria-label': 'No conversation open' },
      emptyState('Pick a conversation', 'Choose one on the left, or start a new one and invite people to it.', h('a', { href: '/new', class: 'btn btn-primary' }, 'New conversation')),
    );
    return { el };
  }
}
