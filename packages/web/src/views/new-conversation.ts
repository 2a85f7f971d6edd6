import { LIMITS } from '@parley/protocol';
import { field, h, statusLine } from '../dom.js';
import type { AppContext } from '../context.js';
import { describeError } from '../errors.js';
import { parseUsernames } from '../format.js';
import type { ConversationStore } from '../state/conversation-store.js';

/** `/new`: title, optional subject, optional people to invite by username. */
export function newConversationView(ctx: AppContext, store: ConversationStore): HTMLElement {
  document.title = 'New conversation · Parley';
  const title = h('input', { name: 'title', required: true, maxlength: LIMITS.titleMax, autocomplete: 'off' });
  const subject = h('input', { name: 'subject', maxlength: LIMITS.subjectMax, autocomplete: 'off' });
  const people = h('input', { name: 'participants', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create conversation');
  const status = statusLine();
  const form = h(
    'form',
    { class: 'form', 'aria-label': 'New conversation', novalidate: true },
    field('Title', title),
    field('Subject (optional)', subject),
    field('Invite people (optional)', people, 'Usernames separated by commas, e.g. alice, bob'),
    h('div', { class: 'actions' }, button, h('a', { href: '/c', class: 'btn btn-ghost' }, 'Cancel')),
    status.el,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!title.value.trim()) {
      status.set('Give the conversation a title.', 'error');
      title.focus();
      return;
    }
    button.disabled = true;
    status.set('Creating…');
    const participants = parseUsernames(people.value);
    store.client
      .createConversation({ title: title.value.trim(), subject: subject.value.trim() || undefined, participants: participants.length ? participants : undefined })
      .then(({ conversation, invited, unknownUsernames }) => {
        store.add(conversation);
        const notes = [
          invited.length ? `Invitations sent to ${invited.join(', ')}.` : '',
          unknownUsernames.length ? `No user is called ${unknownUsernames.join(', ')}: nobody was invited under that name.` : '',
        ].filter(Boolean);
        if (notes.length) store.flash = { conversationId: conversation.id, text: notes.join(' ') };
        ctx.router.navigate(`/c/${encodeURIComponent(conversation.id)}`);
      })
      .catch((error: unknown) => {
        status.set(describeError(error), 'error');
        button.disabled = false;
      });
  });
  return h(
    'section',
    { class: 'pane-page', 'aria-label': 'New conversation' },
    h('header', { class: 'pane-header' }, h('a', { href: '/c', class: 'back-link', 'aria-label': 'Back to conversations' }, '←'), h('h1', {}, 'New conversation')),
    form,
  );
}
