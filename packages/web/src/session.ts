import type { User } from '@parley/protocol';
import { AuthClient, Client } from './sdk.js';

/**
 * Who is signed in, and their live client. The web app talks to the server through the SDK
 * only: the cookie session is held by `AuthClient`, the realtime connection by `Client`.
 */
export class Session {
  readonly baseUrl = location.origin;
  readonly auth = new AuthClient({ baseUrl: this.baseUrl });
  user: User | null = null;
  client: Client | null = null;

  /** Restores a session from the cookie, if there is one. */
  async restore(): Promise<void> {
    this.user = await this.auth.me();
    if (this.user) await this.connect();
  }

  async signIn(username: string, password: string): Promise<void> {
    this.user = await this.auth.signIn(username, password);
    await this.connect();
  }

  async signUp(username: string, password: string): Promise<void> {
    this.user = await this.auth.signUp(username, password);
    await this.connect();
  }

  /** Closes the realtime connection and revokes the server-side session. */
  async signOut(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.user = null;
    await client?.shutdown().catch(() => undefined);
    await this.auth.signOut();
  }

  private async connect(): Promise<void> {
    await this.client?.shutdown().catch(() => undefined);
    const token = await this.auth.getToken();
    this.client = await Client.create(token, { baseUrl: this.baseUrl, getToken: () => this.auth.getToken() });
  }
}
