import { h } from '../dom.js';
import type { AppContext } from '../context.js';
import { authForm, type AuthMode } from './auth-form.js';
import { simplePage } from './layout.js';

/** The sign-in or sign-up page; goes to `next` (or the conversation list) on success. */
export function authPage(ctx: AppContext, mode: AuthMode, next: string | null): HTMLElement {
  const title = mode === 'signin' ? 'Sign in' : 'Create your account';
  const query = next ? `?next=${encodeURIComponent(next)}` : '';
  const other =
    mode === 'signin'
      ? h('p', { class: 'muted' }, 'New to Parley? ', h('a', { href: `/signup${query}` }, 'Create an account'))
      : h('p', { class: 'muted' }, 'Already have an account? ', h('a', { href: `/signin${query}` }, 'Sign in instead'));
  const form = authForm(mode, async (username, password) => {
    if (mode === 'signin') await ctx.session.signIn(username, password);
    else await ctx.session.signUp(username, password);
    ctx.router.navigate(next ?? '/c', { replace: true });
  });
  return simplePage(title, h('h1', {}, title), form, other);
}
