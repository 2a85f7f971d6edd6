import type { InvitePreviewResponse } from '@parley/protocol';
import { h, replace, statusLine } from '../dom.js';
import type { AppContext } from '../context.js';
import { describeError, errorCode, INVITE_ERRORS } from '../errors.js';
import { fetchInvitePreview } from '../invite-preview.js';
import { authForm, type AuthMode } from './auth-form.js';
import { loading, simplePage } from './layout.js';
import { inviteErrorPage } from './pages.js';

/**
 * `/join/<token>`: previews the conversation, lets a visitor sign in or up on the spot,
 * then joins them and opens the chat.
 */
export function joinPage(ctx: AppContext, token: string): HTMLElement {
  const root = h('div', { class: 'join-root' }, simplePage('Join a conversation', loading('Checking the invite link…')));
  const showError = (error: unknown): void => replace(root, inviteErrorPage(errorCode(error), describeError(error)));
  fetchInvitePreview(ctx.session.baseUrl, token).then((preview) => {
    const render = (problem?: string): void => replace(root, joinCard({ ctx, token, preview, render, showError }, problem));
    render();
  }, showError);
  return root;
}

interface JoinCardProps {
  ctx: AppContext;
  token: string;
  preview: InvitePreviewResponse;
  /** Re-renders the card (after signing in), optionally with a problem to show. */
  render(problem?: string): void;
  /** Replaces the page with the error page for a dead link. */
  showError(error: unknown): void;
}

function joinCard(props: JoinCardProps, problem?: string): HTMLElement {
  const { ctx, token, preview } = props;
  const status = statusLine();
  if (problem) status.set(problem, 'error');
  const join = async (): Promise<void> => {
    const client = ctx.session.client;
    if (!client) throw new Error('Sign in first.');
    status.set('Joining…');
    try {
      const conversation = await client.joinByInvite(token);
      ctx.router.navigate(`/c/${encodeURIComponent(conversation.id)}`, { replace: true });
    } catch (error) {
      const code = errorCode(error);
      if (code && INVITE_ERRORS[code]) props.showError(error);
      else props.render(describeError(error));
    }
  };
  const heading = h('h1', {}, 'Join “', preview.title, '”');
  const intro = h('p', { class: 'lead' }, preview.createdBy, ' invited you to this conversation on Parley.');
  const body = ctx.session.user ? signedInJoin(ctx.session.user.username, join, status) : signedOutJoin(ctx, join);
  return simplePage(`Join ${preview.title}`, heading, intro, body, status.el);
}

function signedInJoin(username: string, join: () => Promise<void>, status: ReturnType<typeof statusLine>): HTMLElement {
  const button = h('button', { type: 'button', class: 'btn btn-primary' }, 'Join conversation');
  button.addEventListener('click', () => {
    button.disabled = true;
    join().catch((error: unknown) => {
      status.set(describeError(error), 'error');
      button.disabled = false;
    });
  });
  return h('div', {}, h('p', { class: 'muted' }, 'You are signed in as ', h('strong', {}, username), '.'), button);
}

function signedOutJoin(ctx: AppContext, join: () => Promise<void>): HTMLElement {
  const holder = h('div', { class: 'join-auth' });
  const show = (mode: AuthMode): void => {
    const form = authForm(mode, async (username, password) => {
      if (mode === 'signin') await ctx.session.signIn(username, password);
      else await ctx.session.signUp(username, password);
      await join();
    });
    const otherMode: AuthMode = mode === 'signup' ? 'signin' : 'signup';
    const toggle = h(
      'button',
      { type: 'button', class: 'link-button', onclick: () => show(otherMode) },
      mode === 'signup' ? 'I already have an account' : 'I am new here',
    );
    const lead = mode === 'signup' ? 'Create an account to join.' : 'Sign in to join.';
    replace(holder, h('p', { class: 'muted' }, lead), form, h('p', { class: 'muted' }, toggle));
  };
  show('signup');
  return holder;
}
