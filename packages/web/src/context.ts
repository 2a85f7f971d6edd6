import type { Router } from './router.js';
import type { Session } from './session.js';

/** What every view gets: who is signed in and how to move around. */
export interface AppContext {
  readonly session: Session;
  readonly router: Router;
  /** Re-renders the current route (after signing in or out). */
  refresh(): void;
}

/** A mounted view: its root element and how to tear it down. */
export interface View {
  readonly el: HTMLElement;
  dispose?(): void;
}
