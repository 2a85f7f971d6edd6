import { h, replace } from '../dom.js';
import type { AppContext, View } from '../context.js';
import { describeError, errorCode } from '../errors.js';
import { Disposer, listen, onReconnect } from '../events.js';
import type { Conversation } from '../sdk.js';
import type { ConversationStore } from '../state/conversation-store.js';
import { composer } from './composer.js';
import type { GroupActions } from './group-admin.js';
import { GroupPanel } from './group-panel.js';
import { inviteBox } from './invite-box.js';
import { emptyState, errorState, loading } from './layout.js';
import { MessageList } from './message-list.js';

/** Callbacks from the shell: show a toast. */
export interface ChatHost {
  toast(text: string, kind?: 'info' | 'warning'): void;
}

/**
 * `/c/<id>`: header (title, subject, Invite, group toggle), messages, composer and the group
 * panel. Finds the conversation in the store or asks the server, which answers 404 for
 * conversations I am not in.
 */
export function chatView(ctx: AppContext, store: ConversationStore, conversationId: string, host: ChatHost): View {
  const el = h('section', { class: 'chat', 'aria-label': 'Chat' }, loading('Opening the conversation…'));
  const disposer = new Disposer();
  let disposed = false;
  const open = (): void => {
    resolveConversation(store, conversationId).then(
      (conversation) => {
        if (!disposed) mountChat(ctx, store, conversation, host, el, disposer);
      },
      (error: unknown) => {
        if (disposed) return;
        const notMine = errorCode(error) === 'conversation_not_found' || errorCode(error) === 'not_found';
        replace(
          el,
          notMine
            ? emptyState('Conversation not found', 'It may have been deleted, or you are not a member of it.', h('a', { href: '/c', class: 'btn' }, 'Back to conversations'))
            : errorState(describeError(error), open),
        );
      },
    );
  };
  open();
  return {
    el,
    dispose() {
      disposed = true;
      disposer.dispose();
      if (store.activeId === conversationId) store.activeId = null;
    },
  };
}

async function resolveConversation(store: ConversationStore, id: string): Promise<Conversation> {
  const known = store.get(id);
  if (known) return known;
  const conversation = await store.client.getConversation(id);
  store.add(conversation);
  return conversation;
}

function mountChat(ctx: AppContext, store: ConversationStore, conversation: Conversation, host: ChatHost, el: HTMLElement, disposer: Disposer): void {
  const client = store.client;
  const id = conversation.id;
  store.activeId = id;
  store.markRead(id);
  document.title = `${conversation.title} · Parley`;
  const messages = new MessageList(conversation, client.user.id);
  const panel = new GroupPanel(client, conversation, groupActions(ctx, store, host, id));
  const header = chatHeader(conversation, panel.el.id);
  wirePanelToggle(el, header, panel);
  const flash = store.flash?.conversationId === id ? store.flash.text : null;
  store.flash = null;
  replace(
    el,
    header.el,
    header.invite.panel,
    flash ? h('p', { class: 'notice', role: 'status' }, flash) : null,
    h('div', { class: 'chat-body' }, h('div', { class: 'chat-column' }, messages.el, composer(conversation, (m) => messages.add(m))), panel.el),
  );
  el.setAttribute('aria-label', `Chat: ${conversation.title}`);
  const onVisible = (): void => {
    if (document.visibilityState === 'visible') store.markRead(id);
  };
  document.addEventListener('visibilitychange', onVisible);
  disposer.add(
    listen(client, 'messageAdded', (message) => {
      if (message.conversationId !== id) return;
      messages.add(message);
      onVisible();
    }),
    listen(client, 'messageUpdated', (message) => {
      if (message.conversationId === id) messages.update(message);
    }),
    listen(client, 'messageRemoved', ({ conversationId, message }) => {
      if (conversationId === id) messages.update(message);
    }),
    listen(client, 'participantUpdated', ({ conversationId, participant }) => {
      if (conversationId === id && participant.userId === client.user.id) messages.redraw();
    }),
    store.subscribe(() => followStore(ctx, store, id, header, panel)),
    onReconnect(client, () => {
      void messages.catchUp();
      void panel.load(true);
    }),
    () => document.removeEventListener('visibilitychange', onVisible),
    () => panel.dispose(),
  );
  void messages.load();
  void panel.load();
}

/** Leaving or deleting closes the chat with a notice; a rename reaches the store at once. */
function groupActions(ctx: AppContext, store: ConversationStore, host: ChatHost, id: string): GroupActions {
  return {
    gone(notice) {
      store.remove(id);
      host.toast(notice);
      ctx.router.navigate('/c');
    },
    updated(updated) {
      store.update(updated);
    },
  };
}

/** The "Group info" toggle, which matters where the panel is a drawer (narrow screens). */
function wirePanelToggle(el: HTMLElement, header: ChatHeader, panel: GroupPanel): void {
  el.classList.add('panel-closed');
  const setPanel = (open: boolean): void => {
    el.classList.toggle('panel-closed', !open);
    header.toggle.setAttribute('aria-expanded', String(open));
  };
  header.toggle.addEventListener('click', () => setPanel(el.classList.contains('panel-closed')));
  panel.close.addEventListener('click', () => {
    setPanel(false);
    header.toggle.focus();
  });
}

function followStore(ctx: AppContext, store: ConversationStore, id: string, header: ChatHeader, panel: GroupPanel): void {
  const current = store.get(id);
  if (!current) {
    if (store.activeId === id) ctx.router.navigate('/c', { replace: true });
    return;
  }
  if (header.title.textContent !== current.title || header.subject.textContent !== current.subject) {
    header.title.textContent = current.title;
    header.subject.textContent = current.subject;
    header.subject.hidden = !current.subject;
    document.title = `${current.title} · Parley`;
    panel.refresh(current);
  }
}

type ChatHeader = ReturnType<typeof chatHeader>;

function chatHeader(conversation: Conversation, panelId: string) {
  const title = h('h1', { class: 'chat-title' }, conversation.title);
  const subject = h('p', { class: 'chat-subject', hidden: !conversation.subject }, conversation.subject);
  const invite = inviteBox(conversation);
  const toggle = h('button', { type: 'button', class: 'btn btn-small panel-toggle', 'aria-expanded': 'false', 'aria-controls': panelId }, 'Group info');
  const el = h(
    'header',
    { class: 'chat-header' },
    h('a', { href: '/c', class: 'back-link', 'aria-label': 'Back to conversations' }, '←'),
    h('div', { class: 'chat-heading' }, title, subject),
    h('div', { class: 'chat-actions' }, invite.button, toggle),
  );
  return { el, title, subject, invite, toggle };
}
