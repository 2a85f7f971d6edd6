import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

/** Debian's Chromium; `PARLEY_CHROMIUM` overrides it (as in scripts/test.mjs). */
export const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const INSTALL_HINT = `Chromium is missing at ${CHROMIUM_PATH}: apt-get install -y chromium`;
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../screenshots', import.meta.url));

/**
 * `describe` for browser suites. Without Chromium the suite fails in CI (CI=true) and is
 * skipped with a warning elsewhere; either way the message says how to install it.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(INSTALL_HINT);
      });
    });
  } else {
    console.warn(`${INSTALL_HINT} (skipping "${name}")`);
    describe.skip(name, body);
  }
}

/** Launches Debian's Chromium headless with the flags that keep it quiet in a sandbox-less box. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Waits until the locator is visible (no fixed sleeps). */
export async function visible(locator: Locator, timeout = 10_000): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

/** Waits until the locator is gone or hidden. */
export async function gone(locator: Locator, timeout = 10_000): Promise<void> {
  await locator.waitFor({ state: 'hidden', timeout });
}

/** Polls until the locator's text contains `text`. */
export async function hasText(locator: Locator, text: string | RegExp, timeout = 10_000): Promise<void> {
  await expect
    .poll(async () => ((await locator.count()) > 0 ? await locator.first().innerText() : ''), { timeout })
    .toMatch(typeof text === 'string' ? new RegExp(escapeRegExp(text)) : text);
}

/** Signs up from the landing page and waits for the conversation list. */
export async function signUpFromLanding(page: Page, baseUrl: string, username: string, password = 'correct horse battery'): Promise<void> {
  await page.goto(baseUrl);
  await page.getByRole('link', { name: 'Sign up' }).click();
  await fillCredentials(page, username, password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(/\/c$/);
  await visible(page.getByRole('button', { name: 'Sign out' }));
}

/** Fills the username and password fields of whatever auth form is on the page. */
export async function fillCredentials(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
}

/** Saves a screenshot under `screenshots/` (gitignored) for a human to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The horizontal centre of an element, relative to another. */
export async function centreX(locator: Locator): Promise<number> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('element has no box');
  return box.x + box.width / 2;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The row of `username` in the group panel's participant list.
 *
 * @example
 * await hasText(participantRow(page, 'bob'), 'invited');
 */
export function participantRow(page: Page, username: string): Locator {
  return page
    .getByRole('complementary', { name: 'Group' })
    .getByRole('list', { name: 'Participants' })
    .getByRole('listitem')
    .filter({ has: page.getByText(username, { exact: true }) });
}
