import { ParleyError } from './errors.js';
import type { TokenStore } from './tokens.js';

export type FetchFn = typeof fetch;
export type Query = Record<string, string | number | undefined>;

/** Options for one request. */
export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** Send the bearer token (default true when the client has one). */
  auth?: boolean;
}

/** Options for {@link Http}. */
export interface HttpOptions {
  baseUrl: string;
  fetch?: FetchFn;
  tokens?: TokenStore;
  /** Browser cookie mode; `include` for the cookie session. */
  credentials?: RequestCredentials;
  /** Extra headers per request (the Node cookie jar uses this). */
  headers?: () => Record<string, string>;
  /** Sees every response (the Node cookie jar reads `Set-Cookie` here). */
  onResponse?: (res: Response) => void;
}

/**
 * Normalises a base URL: absolute, no trailing slash. Relative URLs resolve against the page.
 *
 * @example
 * normalizeBaseUrl('http://localhost:8000/') // 'http://localhost:8000'
 */
export function normalizeBaseUrl(baseUrl: string): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const url = new URL(baseUrl || '/', page);
  return url.href.replace(/\/+$/, '');
}

/**
 * The WebSocket URL for a base URL: `http` becomes `ws`, `https` becomes `wss`, path `/ws`.
 *
 * @example
 * socketUrl('https://chat.example.com') // 'wss://chat.example.com/ws'
 */
export function socketUrl(baseUrl: string): string {
  return `${normalizeBaseUrl(baseUrl).replace(/^http/, 'ws')}/ws`;
}

/**
 * JSON over fetch against `/api`, mapping failures to {@link ParleyError}. With a token store it
 * sends `Authorization: Bearer`, and on `401 token_expired` refreshes the token once and retries.
 */
export class Http {
  readonly baseUrl: string;
  private readonly fetchFn: FetchFn;
  private readonly aborter = new AbortController();

  constructor(private readonly opts: HttpOptions) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl);
    const custom = opts.fetch;
    // Browsers reject `fetch` called with a foreign `this`, so never call it as a method.
    this.fetchFn = custom ? (input, init) => custom(input, init) : (input, init) => globalThis.fetch(input, init);
  }

  /** Cancels every request in flight and refuses new ones (client shutdown). */
  abort(): void {
    this.aborter.abort();
  }

  /** `GET` and friends; resolves with the parsed JSON body (`undefined` for 204). */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const tokens = opts.auth === false ? undefined : this.opts.tokens;
    const token = tokens?.current;
    try {
      return await this.once<T>(method, path, opts, token);
    } catch (err) {
      if (!tokens?.canRefresh || !(err instanceof ParleyError) || err.code !== 'token_expired') throw err;
      const fresh = await tokens.refresh(token);
      return this.once<T>(method, path, opts, fresh);
    }
  }

  private async once<T>(method: string, path: string, opts: RequestOptions, token?: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers?.() };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (this.aborter.signal.aborted) throw shutDown();
    const init: RequestInit = { method, headers, signal: this.aborter.signal };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    if (this.opts.credentials) init.credentials = this.opts.credentials;
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path, opts.query), init);
    } catch (err) {
      throw this.aborter.signal.aborted ? shutDown() : ParleyError.network(err);
    }
    this.opts.onResponse?.(res);
    const body = await readBody(res);
    if (!res.ok) throw ParleyError.fromResponse(res.status, body, res.headers.get('retry-after'));
    return body as T;
  }

  private url(path: string, query?: Query): string {
    let url = `${this.baseUrl}/api${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }
}

function shutDown(): ParleyError {
  return new ParleyError('unavailable', 'The client was shut down', { status: 0 });
}

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined;
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw ParleyError.network(err, 'The connection dropped while reading the response');
  }
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Encodes one path segment.
 *
 * @example
 * seg('a/b') // 'a%2Fb'
 */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
