import { h } from '../dom.js';
import { listen } from '../events.js';
import type { Client, ConnectionState } from '../sdk.js';

const WORDS: Partial<Record<ConnectionState, string>> = {
  connecting: 'Reconnecting to the server…',
  disconnected: 'Connection lost. Reconnecting…',
  denied: 'Your session has ended. Sign in again to keep chatting.',
};

/** A banner shown while the realtime connection is down; silent when connected. */
export function connectionBanner(client: Client): { el: HTMLElement; dispose(): void } {
  const el = h('div', { class: 'connection-banner', role: 'status', 'aria-live': 'polite' });
  let everConnected = client.connectionState === 'connected';
  const show = (state: ConnectionState): void => {
    if (state === 'connected') everConnected = true;
    const words = state === 'connecting' && !everConnected ? 'Connecting…' : WORDS[state];
    el.textContent = words ?? '';
    el.hidden = !words;
    el.dataset.state = state;
    if (state === 'denied') el.append(' ', h('a', { href: '/signin' }, 'Sign in'));
  };
  show(client.connectionState);
  const dispose = listen(client, 'connectionStateChanged', show);
  return { el, dispose };
}
