import type { Client, ClientEvents } from './sdk.js';

/**
 * Subscribes to a client event and returns the matching unsubscribe, so each view can drop
 * all its listeners in one `dispose()`.
 *
 * @example
 * const off = listen(client, 'messageAdded', (m) => render(m));
 */
export function listen<K extends keyof ClientEvents>(
  client: Client,
  name: K,
  handler: (data: ClientEvents[K]) => void,
): () => void {
  client.on(name, handler);
  return () => {
    client.off(name, handler);
  };
}

/** Collects disposers and runs them all once. */
export class Disposer {
  private readonly items: Array<() => void> = [];

  add(...fns: Array<() => void>): void {
    this.items.push(...fns);
  }

  dispose(): void {
    for (const fn of this.items.splice(0)) fn();
  }
}

/**
 * Calls `fn` each time the connection comes back after being down (not on the first
 * connect): the moment to re-fetch anything that may have changed meanwhile.
 */
export function onReconnect(client: Client, fn: () => void): () => void {
  let wasDown = client.connectionState !== 'connected';
  let everUp = client.connectionState === 'connected';
  return listen(client, 'connectionStateChanged', (state) => {
    if (state !== 'connected') {
      wasDown = true;
      return;
    }
    if (wasDown && everUp) fn();
    wasDown = false;
    everUp = true;
  });
}
