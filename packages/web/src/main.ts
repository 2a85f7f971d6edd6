import './app.css';
import type { AppContext } from './context.js';
import { replace } from './dom.js';
import { describeError } from './errors.js';
import { matchRoute, Router, type Route } from './router.js';
import { Session } from './session.js';
import { AppShell } from './views/app-shell.js';
import { authPage } from './views/auth-page.js';
import { joinPage } from './views/join.js';
import { loading } from './views/layout.js';
import { fatalPage, landingPage, notFoundPage } from './views/pages.js';

/** Boots the app: restores the session, then renders whatever the address bar says. */
class App implements AppContext {
  readonly session = new Session();
  readonly router = new Router();
  private shell: AppShell | null = null;

  constructor(private readonly root: HTMLElement) {}

  async start(): Promise<void> {
    replace(this.root, loading('Loading Parley…'));
    try {
      await this.session.restore();
    } catch (error) {
      replace(this.root, fatalPage(describeError(error), () => void this.start()));
      return;
    }
    this.router.start((route) => this.render(route));
  }

  refresh(): void {
    this.render(matchRoute(location.pathname, location.search));
  }

  private render(route: Route): void {
    const signedIn = this.session.user !== null && this.session.client !== null;
    switch (route.name) {
      case 'landing':
        return signedIn ? this.router.navigate('/c', { replace: true }) : this.page(landingPage());
      case 'signin':
      case 'signup':
        if (signedIn) return this.router.navigate(route.next ?? '/c', { replace: true });
        return this.page(authPage(this, route.name, route.next));
      case 'join':
        return this.page(joinPage(this, route.token));
      case 'notFound':
        return this.page(notFoundPage());
      default:
        if (!signedIn) {
          const next = encodeURIComponent(location.pathname);
          return this.router.navigate(`/signin?next=${next}`, { replace: true });
        }
        return this.showShell(route);
    }
  }

  private page(el: HTMLElement): void {
    this.dropShell();
    replace(this.root, el);
    window.scrollTo(0, 0);
  }

  private showShell(route: Extract<Route, { name: 'home' | 'new' | 'chat' }>): void {
    const client = this.session.client;
    if (!client) return;
    if (!this.shell || this.shell.client !== client) {
      this.dropShell();
      this.shell = new AppShell(this, client, () => void this.signOut());
      replace(this.root, this.shell.el);
    }
    this.shell.show(route);
  }

  private dropShell(): void {
    this.shell?.dispose();
    this.shell = null;
  }

  private async signOut(): Promise<void> {
    this.dropShell();
    replace(this.root, loading('Signing out…'));
    await this.session.signOut().catch(() => undefined);
    this.router.navigate('/', { replace: true });
  }
}

const root = document.getElementById('app');
if (root) void new App(root).start();
