import { LIMITS } from '@parley/protocol';
import { field, h, type statusLine } from '../dom.js';
import { describeError } from '../errors.js';
import type { Conversation } from '../sdk.js';

/** What the panel needs from the rest of the app. */
export interface GroupActions {
  /** The conversation is gone for me (left or deleted): leave the chat, show `notice`. */
  gone(notice: string): void;
  /** The conversation changed (renamed ...). */
  updated(conversation: Conversation): void;
}

type Status = ReturnType<typeof statusLine>;

/** Admin-only controls: add by username, rename, change subject, delete (with confirmation). */
export function adminControls(conversation: Conversation, status: Status, actions: GroupActions): HTMLElement {
  return h(
    'div',
    {},
    addForm(conversation, status),
    settingsForm(conversation, status, actions),
    deleteControl(conversation, status, actions),
  );
}

function addForm(conversation: Conversation, status: Status): HTMLElement {
  const input = h('input', { name: 'username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: LIMITS.usernameMax, placeholder: 'username' });
  const form = h('form', { class: 'panel-section inline-form', 'aria-label': 'Add people' }, h('h2', { class: 'section-title' }, 'Add people'), field('Username to add', input), h('button', { type: 'submit', class: 'btn btn-small' }, 'Add'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const username = input.value.trim().replace(/^@/, '');
    if (!username) return;
    status.set(`Inviting ${username}…`);
    conversation.addParticipant(username).then(
      () => {
        input.value = '';
        status.set(`Invited ${username}. They will see the invitation right away.`, 'ok');
      },
      (error: unknown) => status.set(describeError(error), 'error'),
    );
  });
  return form;
}

function settingsForm(conversation: Conversation, status: Status, actions: GroupActions): HTMLElement {
  const title = h('input', { name: 'title', required: true, maxlength: LIMITS.titleMax, value: conversation.title });
  const subject = h('input', { name: 'subject', maxlength: LIMITS.subjectMax, value: conversation.subject });
  const save = (changes: { title?: string; subject?: string }, done: string): void => {
    status.set('Saving…');
    conversation.update(changes).then(
      (updated) => {
        actions.updated(updated);
        status.set(done, 'ok');
      },
      (error: unknown) => status.set(describeError(error), 'error'),
    );
  };
  const rename = h('button', { type: 'button', class: 'btn btn-small' }, 'Rename');
  rename.addEventListener('click', () => {
    if (title.value.trim()) save({ title: title.value.trim() }, 'Renamed.');
  });
  const setSubject = h('button', { type: 'button', class: 'btn btn-small' }, 'Change subject');
  setSubject.addEventListener('click', () => save({ subject: subject.value.trim() }, 'Subject changed.'));
  return h(
    'div',
    { class: 'panel-section', role: 'group', 'aria-label': 'Settings' },
    h('h2', { class: 'section-title' }, 'Settings'),
    h('div', { class: 'inline-form' }, field('Conversation title', title), rename),
    h('div', { class: 'inline-form' }, field('Subject', subject), setSubject),
  );
}

function deleteControl(conversation: Conversation, status: Status, actions: GroupActions): HTMLElement {
  const holder = h('div', { class: 'panel-section' });
  const ask = h('button', { type: 'button', class: 'btn btn-small btn-danger-outline' }, 'Delete conversation');
  const confirmBox = h(
    'div',
    { class: 'confirm', role: 'alertdialog', 'aria-label': 'Confirm delete', hidden: true },
    h('p', {}, `Delete “${conversation.title}” and all its messages for everyone? This cannot be undone.`),
  );
  const yes = h('button', { type: 'button', class: 'btn btn-small btn-danger' }, 'Yes, delete');
  const no = h('button', { type: 'button', class: 'btn btn-small' }, 'Cancel');
  confirmBox.append(h('div', { class: 'row' }, yes, no));
  ask.addEventListener('click', () => {
    confirmBox.hidden = false;
    ask.hidden = true;
    yes.focus();
  });
  no.addEventListener('click', () => {
    confirmBox.hidden = true;
    ask.hidden = false;
  });
  yes.addEventListener('click', () => {
    yes.disabled = true;
    conversation.delete().then(
      () => actions.gone(`“${conversation.title}” was deleted.`),
      (error: unknown) => {
        yes.disabled = false;
        status.set(describeError(error), 'error');
      },
    );
  });
  holder.append(ask, confirmBox);
  return holder;
}
