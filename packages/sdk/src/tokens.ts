import { ParleyError } from './errors.js';

/**
 * Holds the current access token and refreshes it through the application's `getToken`,
 * sharing one refresh between every caller that notices expiry at the same time.
 */
export class TokenStore {
  private token: string;
  private inflight: Promise<string> | null = null;

  constructor(
    token: string,
    private readonly getToken?: () => Promise<string>,
  ) {
    this.token = token;
  }

  get current(): string {
    return this.token;
  }

  /** Whether a new token can be fetched without the application's help. */
  get canRefresh(): boolean {
    return this.getToken !== undefined;
  }

  set(token: string): void {
    this.token = token;
  }

  /**
   * Gets a fresh token. When `stale` is given and the token has already changed since, the
   * newer token is returned without asking again.
   */
  refresh(stale?: string): Promise<string> {
    if (stale !== undefined && stale !== this.token) return Promise.resolve(this.token);
    if (this.inflight) return this.inflight;
    const getToken = this.getToken;
    if (!getToken) return Promise.reject(new ParleyError('token_expired'));
    this.inflight = getToken()
      .then((token) => {
        this.token = token;
        return token;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }
}
