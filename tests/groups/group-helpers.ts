import { afterAll, beforeAll } from 'vitest';
import { WebSocket } from 'ws';
import { AuthClient, Client, type ClientEvents, type ParleyError } from '@parley/sdk';
import { startTestServer } from '@parley/server/test-support';

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

export interface User {
  name: string;
  auth: AuthClient;
  client: Client;
}

/** A real server on port 0 (in-memory SQLite, in-process bus), configured by `env`. */
export function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ listen: true, env });
}

/** A server and one signed-up, connected user per name, in order. */
export async function serverWithUsers(...names: string[]): Promise<{ server: TestServer; users: User[] }> {
  return serverWithUsersAndEnv({}, ...names);
}

/** `serverWithUsers` on a server configured by `env`. */
export async function serverWithUsersAndEnv(env: Record<string, string>, ...names: string[]): Promise<{ server: TestServer; users: User[] }> {
  const server = await startServer(env);
  const users: User[] = [];
  for (const name of names) users.push(await signUp(server, name));
  return { server, users };
}

/**
 * For a test file: starts a server with one user per name (signed up as `prefix` + name) before
 * its tests and stops them after. The fields are filled in by `beforeAll`.
 *
 * @example
 * const t = useServerWithUsers('edit_', 'admin', 'ann');
 * it('...', async () => { await t.ann.client.getSubscribedConversations(); });
 */
export function useServerWithUsers<const N extends string>(prefix: string, ...names: N[]): { server: TestServer } & Record<N, User> {
  const fixture = {} as { server: TestServer } & Record<N, User>;
  beforeAll(async () => {
    const { server, users } = await serverWithUsers(...names.map((n) => prefix + n));
    fixture.server = server;
    names.forEach((n, i) => {
      (fixture as Record<N, User>)[n] = users[i] as User;
    });
  });
  afterAll(() => stopAll(fixture.server, names.map((n) => (fixture as Partial<Record<N, User>>)[n])));
  return fixture;
}

/** Shuts the users' clients down, then the server (either may be missing after a failed start). */
export async function stopAll(server: TestServer | undefined, users: (User | undefined)[]): Promise<void> {
  for (const u of users) await u?.client.shutdown();
  await server?.close();
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
