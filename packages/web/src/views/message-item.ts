import { LIMITS, type Message } from '@parley/protocol';
import { autosize, h, replace, statusLine, submitOnEnter, uid } from '../dom.js';
import { describeError } from '../errors.js';
import { formatFull, formatTime } from '../format.js';
import type { Conversation } from '../sdk.js';

/** What a message bubble needs to offer Edit and Delete. */
export interface MessageActions {
  conversation: Conversation;
  myId: string;
  /** Checked when the bubble is drawn: an admin may delete anyone's message. */
  isAdmin(): boolean;
  /** The server's answer to an edit, shown at once (the live event may come later). */
  changed(message: Message): void;
}

/**
 * One message bubble; the body is set as text, so markup in it shows literally. My messages
 * have Edit and Delete, an admin's view has Delete on everyone's; a removed message shows that
 * it was removed, with no actions.
 *
 * @example
 * list.append(messageItem(message, actions));
 */
export function messageItem(message: Message, actions: MessageActions): HTMLElement {
  const mine = message.authorId === actions.myId;
  const removed = message.removedAt !== undefined;
  const meta = h(
    'p',
    { class: 'meta' },
    h('span', { class: 'author' }, mine ? `${message.author} (you)` : message.author),
    ' ',
    h('time', { datetime: message.createdAt, title: formatFull(message.createdAt) }, formatTime(message.createdAt)),
    message.editedAt !== undefined && !removed ? h('span', { class: 'edited', title: `Edited ${formatFull(message.editedAt)}` }, 'edited') : null,
  );
  const body = removed
    ? h('p', { class: 'body removed' }, 'This message was removed')
    : h('p', { class: 'body' }, message.body);
  const bubble = h('div', { class: 'bubble' }, meta, body);
  if (!removed && (mine || actions.isAdmin())) bubble.append(actionBar(message, mine, body, actions));
  return h('li', { class: `message ${mine ? 'mine' : 'theirs'}${removed ? ' is-removed' : ''}`, 'data-index': message.index }, bubble);
}

/** Edit (mine only) and Delete, with the delete confirmed in place. */
function actionBar(message: Message, mine: boolean, body: HTMLElement, actions: MessageActions): HTMLElement {
  const about = snippet(message.body);
  const bar = h('div', { class: 'message-actions' });
  const status = statusLine();
  /** The Edit and Delete buttons; returns Delete, to take the focus back after a confirmation. */
  const idle = (): HTMLElement => {
    const edit = mine
      ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Edit message “${about}”` }, 'Edit')
      : null;
    const del = h('button', { type: 'button', class: 'link-button', 'aria-label': `Delete message “${about}”` }, 'Delete');
    edit?.addEventListener('click', () => startEdit(message, body, bar, edit, actions));
    del.addEventListener('click', confirmDelete);
    replace(bar, edit, del, status.el);
    return del;
  };
  const confirmDelete = (): void => {
    // The question is the confirming button's description, read out when the focus lands on it.
    const question = h('span', { class: 'confirm-text', id: uid('confirm') }, 'Delete this message?');
    const yes = h('button', { type: 'button', class: 'link-button danger', 'aria-describedby': question.id }, 'Delete');
    const no = h('button', { type: 'button', class: 'link-button' }, 'Cancel');
    replace(bar, question, yes, no, status.el);
    no.addEventListener('click', () => idle().focus());
    yes.addEventListener('click', () => {
      yes.disabled = true;
      actions.conversation.removeMessage(message.id).then(
        // The bubble is redrawn by the `messageRemoved` event.
        () => undefined,
        (error: unknown) => {
          idle().focus();
          status.set(`Not deleted: ${describeError(error)}`, 'error');
        },
      );
    });
    yes.focus();
  };
  idle();
  return bar;
}

/**
 * Swaps the body for a labelled text box; Enter (or Save) saves, Escape (or Cancel) gives up
 * and puts the focus back on the Edit button.
 */
function startEdit(message: Message, body: HTMLElement, bar: HTMLElement, editButton: HTMLElement, actions: MessageActions): void {
  const input = h('textarea', { class: 'edit-input', 'aria-label': 'Edit message', rows: 2, maxlength: LIMITS.messageBodyMax });
  input.value = message.body;
  const save = h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'btn btn-small' }, 'Cancel');
  const status = statusLine();
  const form = h('form', { class: 'edit-form', 'aria-label': 'Edit message' }, input, h('div', { class: 'edit-buttons' }, save, cancel), status.el);
  const close = (): void => {
    form.replaceWith(body);
    bar.hidden = false;
    editButton.focus();
  };
  const submit = (): void => {
    const text = input.value;
    if (!text.trim()) {
      status.set('A message cannot be empty: use Delete to remove it', 'error');
      return;
    }
    if (text === message.body) return close();
    save.disabled = true;
    actions.conversation.updateMessage(message.id, text).then(actions.changed, (error: unknown) => {
      save.disabled = false;
      status.set(`Not saved: ${describeError(error)}`, 'error');
    });
  };
  submitOnEnter(form, input, submit);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  input.addEventListener('input', () => {
    autosize(input);
    status.set('');
  });
  cancel.addEventListener('click', close);
  body.replaceWith(form);
  bar.hidden = true;
  autosize(input);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

/** A short, one-line version of a body for an accessible name. */
function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 40 ? `${line.slice(0, 39)}…` : line;
}
