import type { Invitation } from '@parley/protocol';
import { h, replace } from '../dom.js';
import type { AppContext } from '../context.js';
import { describeError } from '../errors.js';
import { formatTime } from '../format.js';
import type { Conversation } from '../sdk.js';
import type { ConversationStore } from '../state/conversation-store.js';
import { errorState, loading, logo } from './layout.js';

/**
 * The left column: who I am, sign out, new conversation, pending invitations and my
 * conversations, newest activity first, with unread badges. Re-renders on store changes.
 */
export function sidebar(ctx: AppContext, store: ConversationStore, onSignOut: () => void): HTMLElement {
  const invitations = h('section', { class: 'invitations', 'aria-label': 'Invitations' });
  const list = h('nav', { class: 'conversation-nav', 'aria-label': 'Conversations' });
  const signOut = h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: onSignOut }, 'Sign out');
  const el = h(
    'aside',
    { class: 'sidebar' },
    h(
      'header',
      { class: 'sidebar-header' },
      h('a', { href: '/c', class: 'brand' }, logo(), 'Parley'),
      h('span', { class: 'me', title: 'Signed in as' }, ctx.session.user?.username ?? ''),
      signOut,
    ),
    h('a', { href: '/new', class: 'btn btn-primary btn-block new-conversation' }, '+ New conversation'),
    invitations,
    list,
  );
  const render = (): void => {
    renderInvitations(invitations, ctx, store);
    renderList(list, store);
  };
  store.subscribe(render);
  render();
  return el;
}

function renderList(list: HTMLElement, store: ConversationStore): void {
  const state = store.state;
  if (state.kind === 'loading' && store.list().length === 0) return replace(list, loading('Loading conversations…'));
  if (state.kind === 'error') return replace(list, errorState(state.message, () => void store.load()));
  const conversations = store.list();
  if (conversations.length === 0) {
    return replace(list, h('p', { class: 'muted sidebar-empty' }, 'No conversations yet. Start one, or open an invite link.'));
  }
  const focused = list.contains(document.activeElement) ? document.activeElement?.getAttribute('href') : null;
  replace(list, h('ul', { class: 'conversation-list' }, ...conversations.map((c) => conversationItem(c, store))));
  // Re-rendering replaces the links: keep keyboard focus on the same conversation.
  if (focused) list.querySelector<HTMLAnchorElement>(`a[href="${CSS.escape(focused)}"]`)?.focus();
}

function conversationItem(conversation: Conversation, store: ConversationStore): HTMLElement {
  const unread = store.unreadOf(conversation.id);
  const last = store.lastMessageOf(conversation.id);
  const active = conversation.id === store.activeId;
  const preview = last
    ? `${last.author}: ${last.removedAt === undefined ? last.body : 'message removed'}`
    : conversation.subject || 'No messages yet';
  return h(
    'li',
    {},
    h(
      'a',
      {
        href: `/c/${encodeURIComponent(conversation.id)}`,
        class: `conversation-link${unread > 0 ? ' has-unread' : ''}`,
        'aria-current': active ? 'page' : undefined,
      },
      h(
        'span',
        { class: 'conversation-line' },
        h('span', { class: 'conversation-title' }, conversation.title),
        h('time', { class: 'conversation-time', datetime: store.activityOf(conversation) }, formatTime(store.activityOf(conversation))),
      ),
      h(
        'span',
        { class: 'conversation-line' },
        h('span', { class: 'conversation-preview' }, preview),
        unread > 0 ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null,
      ),
    ),
  );
}

function renderInvitations(section: HTMLElement, ctx: AppContext, store: ConversationStore): void {
  if (store.invitations.length === 0) return replace(section);
  replace(
    section,
    h('h2', { class: 'section-title' }, 'Invitations'),
    h('ul', { class: 'invitation-list' }, ...store.invitations.map((i) => invitationItem(i, ctx, store))),
  );
}

function invitationItem(invitation: Invitation, ctx: AppContext, store: ConversationStore): HTMLElement {
  const error = h('p', { class: 'status-line', role: 'alert' });
  const accept = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Accept invitation to ${invitation.title}` }, 'Accept');
  const decline = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Decline invitation to ${invitation.title}` }, 'Decline');
  const client = store.client;
  const run = (work: () => Promise<void>): void => {
    accept.disabled = decline.disabled = true;
    work().catch((e: unknown) => {
      error.textContent = describeError(e);
      accept.disabled = decline.disabled = false;
    });
  };
  accept.addEventListener('click', () =>
    run(async () => {
      const conversation = await client.acceptInvitation(invitation.conversationId);
      store.add(conversation);
      ctx.router.navigate(`/c/${encodeURIComponent(conversation.id)}`);
    }),
  );
  decline.addEventListener('click', () =>
    run(async () => {
      await client.declineInvitation(invitation.conversationId);
      store.dropInvitation(invitation.conversationId);
    }),
  );
  return h(
    'li',
    { class: 'invitation' },
    h('p', {}, h('strong', {}, invitation.title)),
    h('p', { class: 'muted small' }, invitation.invitedBy ? `From ${invitation.invitedBy}` : 'You were invited'),
    h('div', { class: 'row' }, accept, decline),
    error,
  );
}
