import type { TokenResponse, User, UserResponse } from '@parley/protocol';
import { ParleyError } from './errors.js';
import { Http, type FetchFn } from './http.js';

const SESSION_COOKIE = 'parley_session';

/** Options for {@link AuthClient}. */
export interface AuthClientOptions {
  /** Where the server is, e.g. `http://localhost:8000` (or `''` for the page's own origin). */
  baseUrl: string;
  /** A fetch implementation; defaults to the global one. */
  fetch?: FetchFn;
}

/**
 * Signs a user up, in and out with the cookie session and mints access tokens for
 * {@link Client}. In a browser the session cookie is the page's own (httpOnly, sent with
 * `credentials: 'include'`); in Node the `parley_session` cookie is kept in memory by this
 * object and sent back on every call.
 *
 * @example
 * const auth = new AuthClient({ baseUrl: 'http://localhost:8000' });
 * await auth.signIn('ada', 'correct horse battery');
 * const client = await Client.create(await auth.getToken(), { baseUrl: 'http://localhost:8000', getToken: () => auth.getToken() });
 */
export class AuthClient {
  private readonly http: Http;
  private cookie: string | null = null;

  constructor(opts: AuthClientOptions) {
    this.http = new Http({
      baseUrl: opts.baseUrl,
      fetch: opts.fetch,
      credentials: 'include',
      headers: (): Record<string, string> => (this.cookie ? { cookie: `${SESSION_COOKIE}=${this.cookie}` } : {}),
      onResponse: (res) => this.readCookie(res),
    });
  }

  /**
   * Creates an account and signs it in.
   *
   * @example
   * const user = await auth.signUp('ada', 'correct horse battery'); // ParleyError 'username_taken' if taken
   */
  async signUp(username: string, password: string): Promise<User> {
    const res = await this.http.request<UserResponse>('POST', '/auth/signup', { body: { username, password } });
    return res.user;
  }

  /**
   * Signs in (a new session id every time).
   *
   * @example
   * const user = await auth.signIn('ada', 'correct horse battery'); // ParleyError 'invalid_credentials' if wrong
   */
  async signIn(username: string, password: string): Promise<User> {
    const res = await this.http.request<UserResponse>('POST', '/auth/signin', { body: { username, password } });
    return res.user;
  }

  /**
   * Signs out; the server deletes the session.
   *
   * @example
   * await auth.signOut();
   */
  async signOut(): Promise<void> {
    try {
      await this.http.request<void>('POST', '/auth/signout');
    } finally {
      this.cookie = null;
    }
  }

  /**
   * The signed-in user, or `null` when there is no valid session.
   *
   * @example
   * const user = await auth.me();
   * if (!user) showSignIn();
   */
  async me(): Promise<User | null> {
    try {
      const res = await this.http.request<UserResponse>('GET', '/me');
      return res.user;
    } catch (err) {
      if (err instanceof ParleyError && err.status === 401) return null;
      throw err;
    }
  }

  /**
   * Mints a short-lived access token for {@link Client} (`POST /api/token`).
   *
   * @example
   * const client = await Client.create(await auth.getToken(), { baseUrl, getToken: () => auth.getToken() });
   */
  async getToken(): Promise<string> {
    const res = await this.http.request<TokenResponse>('POST', '/token');
    return res.token;
  }

  private readCookie(res: Response): void {
    const headers = res.headers as Headers & { getSetCookie?: () => string[] };
    const all = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
    const lines = all.length > 0 ? all : splitSetCookie(headers.get('set-cookie'));
    for (const line of lines) {
      const value = sessionFrom(line);
      if (value !== undefined) this.cookie = value;
    }
  }
}

/**
 * The session id in one `Set-Cookie` line: the value, `null` when the line clears it, or
 * `undefined` when the line is about another cookie.
 */
export function sessionFrom(line: string): string | null | undefined {
  const [pair = '', ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq < 0 || pair.slice(0, eq).trim() !== SESSION_COOKIE) return undefined;
  const value = pair.slice(eq + 1).trim();
  const expired = attrs.some((a) => {
    const [k = '', v = ''] = a.split('=').map((s) => s.trim().toLowerCase());
    return (k === 'max-age' && Number(v) <= 0) || (k === 'expires' && Date.parse(v) < Date.now());
  });
  return value === '' || expired ? null : value;
}

function splitSetCookie(header: string | null): string[] {
  // A joined header separates cookies with ", " but Expires dates contain ", " too.
  return header ? header.split(/,(?=\s*[A-Za-z0-9_.-]+=)/) : [];
}
