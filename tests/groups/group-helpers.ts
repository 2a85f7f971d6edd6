import { WebSocket } from 'ws';
import { AuthClient, Client, type ClientEvents, type ParleyError } from '@parley/sdk';
import { startTestServer } from '@parley/server/test-support';

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

export interface User {
  name: string;
  auth: AuthClient;
  client: Client;
}

/** A real server on port 0 (in-memory SQLite, in-process bus). */
export function startServer(): Promise<TestServer> {
  return startTestServer({ listen: true });
}

/** Signs a user up and connects an SDK client over a real WebSocket. */
export async function signUp(server: TestServer, name: string): Promise<User> {
  const auth = new AuthClient({ baseUrl: server.url });
  await auth.signUp(name, 'password123');
  const client = await connect(server, auth);
  return { name, auth, client };
}

export async function connect(server: TestServer, auth: AuthClient): Promise<Client> {
  return Client.create(await auth.getToken(), {
    baseUrl: server.url,
    getToken: () => auth.getToken(),
    WebSocket: WebSocket as never,
    backoff: { minMs: 20, maxMs: 200 },
  });
}

/** Resolves with the first event matching the predicate; rejects after `timeoutMs`. */
export function nextEvent<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  predicate: (value: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ClientEvents[K]> {
  type T = ClientEvents[K];
  const emitter = client;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const handler = (value: T): void => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(value);
    };
    emitter.on(event, handler);
  });
}

/** The ParleyError a promise rejects with. */
export async function errorOf(promise: Promise<unknown>): Promise<ParleyError> {
  try {
    await promise;
  } catch (err) {
    return err as ParleyError;
  }
  throw new Error('expected the call to fail');
}

/** A round trip through the same socket: everything sent before it has been delivered. */
export async function settle(user: User): Promise<void> {
  await user.client.getSubscribedConversations();
  await new Promise((r) => setTimeout(r, 50));
}
