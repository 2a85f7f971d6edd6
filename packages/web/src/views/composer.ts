import { LIMITS, type Message } from '@parley/protocol';
import { autosize, h, statusLine, submitOnEnter } from '../dom.js';
import { describeError } from '../errors.js';
import type { Conversation } from '../sdk.js';

/**
 * The message box: Enter sends, Shift+Enter makes a new line. The text is cleared at once
 * and put back if the send fails, so nothing typed is ever lost.
 */
export function composer(conversation: Conversation, onSent: (message: Message) => void): HTMLFormElement {
  const input = h('textarea', {
    class: 'composer-input',
    'aria-label': 'Message',
    placeholder: 'Write a message…',
    rows: 1,
    maxlength: LIMITS.messageBodyMax,
  });
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send');
  const status = statusLine();
  const form = h('form', { class: 'composer', 'aria-label': 'Send a message' }, input, send, status.el);
  const submit = (): void => {
    const body = input.value;
    if (!body.trim()) return;
    input.value = '';
    autosize(input);
    status.set('');
    conversation.sendMessage(body).then(onSent, (error: unknown) => {
      if (!input.value) input.value = body;
      autosize(input);
      status.set(`Not sent: ${describeError(error)}`, 'error');
    });
  };
  submitOnEnter(form, input, submit);
  input.addEventListener('input', () => autosize(input));
  return form;
}
