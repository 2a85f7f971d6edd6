import { h } from '../dom.js';
import { INVITE_ERRORS } from '../errors.js';
import { simplePage } from './layout.js';

/** The landing page: what Parley is, and the way in. */
export function landingPage(): HTMLElement {
  return simplePage(
    'Group chat you host yourself',
    h('h1', {}, 'Group chat you host yourself'),
    h(
      'p',
      { class: 'lead' },
      'Parley is a self-hosted group chat: start a conversation, share an invite link, and talk in real time. ',
      'Your messages stay on your own server.',
    ),
    h(
      'ul',
      { class: 'features' },
      h('li', {}, 'Conversations with anyone you invite, by username or by link'),
      h('li', {}, 'Messages arrive live, with unread counts for everything you missed'),
      h('li', {}, 'Group admins add, remove and promote members'),
    ),
    h(
      'div',
      { class: 'actions' },
      h('a', { href: '/signup', class: 'btn btn-primary' }, 'Sign up'),
      h('a', { href: '/signin', class: 'btn' }, 'Sign in'),
    ),
  );
}

/** The page for any path the app does not know. */
export function notFoundPage(): HTMLElement {
  return simplePage(
    'Page not found',
    h('h1', {}, 'Page not found'),
    h('p', {}, 'There is nothing at this address. It may have moved, or the link may be mistyped.'),
    h('div', { class: 'actions' }, h('a', { href: '/', class: 'btn btn-primary' }, 'Go to the start page')),
  );
}

/** The page for an invite link that cannot be used, worded per error code. */
export function inviteErrorPage(code: string | null, fallback: string): HTMLElement {
  const words = (code && INVITE_ERRORS[code]) || { title: 'This invite link cannot be used', body: fallback };
  return simplePage(
    words.title,
    h('h1', {}, words.title),
    h('p', { role: 'alert' }, words.body),
    h('div', { class: 'actions' }, h('a', { href: '/', class: 'btn btn-primary' }, 'Go to the start page')),
  );
}

/** Shown when the app cannot start at all (server unreachable). */
export function fatalPage(message: string, retry: () => void): HTMLElement {
  return simplePage(
    'Cannot reach Parley',
    h('h1', {}, 'Cannot reach Parley'),
    h('p', { role: 'alert' }, message),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: retry }, 'Try again')),
  );
}
