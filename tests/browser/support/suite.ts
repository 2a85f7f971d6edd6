import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchBrowser, signUpFromLanding } from './browser.js';
import { startServer, type RunningServer } from './server.js';

/** What a browser suite gets: one server, one Chromium, contexts closed after the suite. */
export interface BrowserSuite {
  readonly server: RunningServer;
  readonly browser: Browser;
  /** A fresh browser profile (cookies and storage of its own), closed after the suite. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** A new profile with `username` signed up from the landing page, at desktop size. */
  signedIn(username: string, options?: BrowserContextOptions): Promise<{ page: Page; context: BrowserContext }>;
}

/**
 * Starts a Parley server (with `env`) and Chromium before the suite's tests and stops both
 * after them. Call it inside `describeBrowser`.
 *
 * @example
 * const suite = useBrowserSuite();
 * it('works', async () => { const { page } = await suite.signedIn('ada'); ... });
 */
export function useBrowserSuite(env: Record<string, string> = {}): BrowserSuite {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(env), launchBrowser()]);
  });

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await server?.stop();
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the suite's ${what} is not started yet (use it inside a test)`);
    return value;
  };
  const suite: BrowserSuite = {
    get server() {
      return started(server, 'server');
    },
    get browser() {
      return started(browser, 'browser');
    },
    async newContext(options) {
      const context = await suite.browser.newContext(options);
      contexts.push(context);
      return context;
    },
    async signedIn(username, options = { viewport: { width: 1280, height: 800 } }) {
      const context = await suite.newContext(options);
      const page = await context.newPage();
      await signUpFromLanding(page, suite.server.url, username);
      return { page, context };
    },
  };
  return suite;
}

/**
 * `owner` creates a conversation called `title` and `guest` joins it by its invite link;
 * `beforeJoin` runs on the guest's context first (to route its WebSocket).
 *
 * @example
 * const { owner, guest } = await twoInAConversation(suite, 'iris', 'jack', 'Edits');
 */
export async function twoInAConversation(
  suite: BrowserSuite,
  owner: string,
  guest: string,
  title: string,
  beforeJoin: (context: BrowserContext) => Promise<void> = async () => undefined,
): Promise<{ owner: Page; guest: Page }> {
  const { page: first } = await suite.signedIn(owner);
  await first.getByRole('link', { name: 'New conversation' }).first().click();
  await first.getByLabel('Title').fill(title);
  await first.getByRole('button', { name: 'Create conversation' }).click();
  await first.waitForURL(/\/c\/[^/]+$/);
  await first.getByRole('button', { name: 'Invite' }).click();
  const link = first.getByRole('textbox', { name: 'Invite link' });
  await expect.poll(() => link.inputValue()).toMatch(/\/join\//);
  const { page: second, context } = await suite.signedIn(guest);
  await beforeJoin(context);
  await second.goto(await link.inputValue());
  await second.getByRole('button', { name: 'Join conversation' }).click();
  await second.waitForURL(/\/c\/[^/]+$/);
  return { owner: first, guest: second };
}
