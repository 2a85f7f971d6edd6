import { h, type Child } from '../dom.js';

/** The frame of the signed-out pages: brand bar and a centred card. */
export function simplePage(title: string, ...children: Child[]): HTMLElement {
  document.title = `${title} · Parley`;
  return h(
    'div',
    { class: 'simple-page' },
    h('header', { class: 'topbar' }, h('a', { href: '/', class: 'brand' }, logo(), 'Parley')),
    h('main', { class: 'simple-main', id: 'main' }, h('section', { class: 'card' }, ...children)),
  );
}

/** The speech-bubble mark beside the name. */
export function logo(): HTMLElement {
  return h('span', { class: 'logo', 'aria-hidden': 'true' });
}

/** A centred "working on it" line. */
export function loading(text: string): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/** An empty state: a short headline and a hint, optionally with an action. */
export function emptyState(title: string, hint: string, action?: Child): HTMLElement {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), h('p', { class: 'muted' }, hint), action);
}

/** An error state with a retry button. */
export function errorState(message: string, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'error-state', role: 'alert' },
    h('p', {}, message),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again') : null,
  );
}
