/**
 * History-API routing. The server answers every non-API path with index.html, so a deep link
 * like `/join/<token>` or `/c/<id>` lands here and is matched against the table below.
 */
export type Route =
  | { name: 'landing' }
  | { name: 'signin'; next: string | null }
  | { name: 'signup'; next: string | null }
  | { name: 'home' }
  | { name: 'new' }
  | { name: 'chat'; conversationId: string }
  | { name: 'join'; token: string }
  | { name: 'notFound'; path: string };

/** Maps a path (with optional query) to a route. */
export function matchRoute(pathname: string, search = ''): Route {
  const next = new URLSearchParams(search).get('next');
  const safeNext = next && next.startsWith('/') && !next.startsWith('//') ? next : null;
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'landing' };
  if (path === '/signin') return { name: 'signin', next: safeNext };
  if (path === '/signup') return { name: 'signup', next: safeNext };
  if (path === '/c') return { name: 'home' };
  if (path === '/new') return { name: 'new' };
  const chat = /^\/c\/([^/]+)$/.exec(path);
  if (chat?.[1]) return { name: 'chat', conversationId: decodeURIComponent(chat[1]) };
  const join = /^\/join\/([^/]+)$/.exec(path);
  if (join?.[1]) return { name: 'join', token: decodeURIComponent(join[1]) };
  return { name: 'notFound', path: pathname };
}

type Listener = (route: Route) => void;

/** Owns the address bar: `navigate()` pushes a path and notifies the listener. */
export class Router {
  private listener: Listener = () => undefined;

  /** Starts listening to back/forward and to clicks on same-origin links. */
  start(listener: Listener): void {
    this.listener = listener;
    window.addEventListener('popstate', () => this.emit());
    document.addEventListener('click', (event) => this.onClick(event));
    this.emit();
  }

  /** Goes to `path`; `replace` swaps the current history entry instead of adding one. */
  navigate(path: string, options: { replace?: boolean } = {}): void {
    if (options.replace) history.replaceState(null, '', path);
    else if (path !== this.currentPath()) history.pushState(null, '', path);
    this.emit();
  }

  /** The current path plus query string. */
  currentPath(): string {
    return location.pathname + location.search;
  }

  private emit(): void {
    this.listener(matchRoute(location.pathname, location.search));
  }

  private onClick(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search);
  }
}
