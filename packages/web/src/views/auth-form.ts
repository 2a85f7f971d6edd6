import { LIMITS } from '@parley/protocol';
import { field, h, statusLine } from '../dom.js';
import { describeError } from '../errors.js';

export type AuthMode = 'signin' | 'signup';

const WORDS: Record<AuthMode, { action: string; busy: string; password: string }> = {
  signin: { action: 'Sign in', busy: 'Signing in…', password: 'current-password' },
  signup: { action: 'Sign up', busy: 'Signing up…', password: 'new-password' },
};

/**
 * One username + password form. `submit` does the work; its error (the server's
 * `error.message`) is shown under the form.
 */
export function authForm(mode: AuthMode, submit: (username: string, password: string) => Promise<void>): HTMLFormElement {
  const words = WORDS[mode];
  const username = h('input', {
    name: 'username',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    maxlength: LIMITS.usernameMax,
  });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: words.password,
    required: true,
    maxlength: LIMITS.passwordMax,
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, words.action);
  const status = statusLine();
  const form = h(
    'form',
    { class: 'form', 'aria-label': words.action, novalidate: true },
    field('Username', username, mode === 'signup' ? '3–32 characters: letters, digits, _ . -' : undefined),
    field('Password', password, mode === 'signup' ? `At least ${LIMITS.passwordMin} characters` : undefined),
    button,
    status.el,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      status.set('Enter a username and a password.', 'error');
      return;
    }
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    status.set(words.busy);
    submit(username.value.trim(), password.value).then(
      () => status.set(''),
      (error: unknown) => {
        status.set(describeError(error), 'error');
        button.disabled = false;
        button.removeAttribute('aria-busy');
      },
    );
  });
  return form;
}
