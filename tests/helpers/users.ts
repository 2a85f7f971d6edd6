import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { AuthClient, Client, type ClientEvents, type ClientOptions, type Message } from '@parley/sdk';

/** A signed-up user with a connected client. */
export interface TestUser {
  username: string;
  password: string;
  auth: AuthClient;
  client: Client;
  /** Counts getToken calls. */
  tokensIssued: () => number;
}

/** A fresh valid username with a readable prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`.slice(0, 32);
}

/**
 * A WebSocket constructor that remembers every socket it made (to cut them in tests) and can
 * simulate a network outage: while `offline`, new sockets go to a closed port and fail.
 */
export function trackedWebSocket(): { Ctor: typeof WebSocket; sockets: WebSocket[]; setOffline(offline: boolean): void } {
  const sockets: WebSocket[] = [];
  let offline = false;
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(offline ? 'ws://127.0.0.1:9/ws' : url);
      sockets.push(this);
    }
  }
  return { Ctor: Tracked as typeof WebSocket, sockets, setOffline: (value) => void (offline = value) };
}

/**
 * Signs a new user up and connects a client (Node `ws`, quick backoff for tests).
 *
 * @example
 * const ada = await signUp(server.baseUrl, 'ada');
 */
export async function signUp(baseUrl: string, prefix: string, opts: Partial<ClientOptions> = {}): Promise<TestUser> {
  const username = uniqueName(prefix);
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const auth = new AuthClient({ baseUrl });
  await auth.signUp(username, password);
  const user: TestUser = { username, password, auth, client: undefined as unknown as Client, tokensIssued: () => issued };
  let issued = 0;
  const getToken = async (): Promise<string> => {
    issued += 1;
    return auth.getToken();
  };
  user.client = await openClient(baseUrl, await auth.getToken(), { getToken, ...opts });
  return user;
}

/** Another client (another "tab") for an existing user. */
export async function openClient(baseUrl: string, token: string, opts: Partial<ClientOptions> = {}): Promise<Client> {
  return Client.create(token, { baseUrl, WebSocket, backoff: { minMs: 20, maxMs: 300 }, ...opts });
}

/** Records every `messageAdded` (index per conversation) a client emits. */
export function recordMessages(client: Client): Message[] {
  const seen: Message[] = [];
  client.on('messageAdded', (m) => seen.push(m));
  return seen;
}

/**
 * Resolves with the next event matching `predicate`.
 *
 * @example
 * const added = await nextEvent(bob.client, 'conversationAdded');
 */
export function nextEvent<K extends keyof ClientEvents>(
  client: Client,
  name: K,
  predicate: (data: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(name, handler);
      reject(new Error(`timed out waiting for ${String(name)}`));
    }, timeoutMs);
    const handler = (data: ClientEvents[K]): void => {
      if (!predicate(data)) return;
      clearTimeout(timer);
      client.off(name, handler);
      resolve(data);
    };
    client.on(name, handler);
  });
}

/** 1..n */
export function range(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => i + from);
}
