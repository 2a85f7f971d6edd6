import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, it } from 'vitest';
import { describeBrowser, gone, launchBrowser, screenshot, signUpFromLanding, visible } from './support/browser.js';
import { startServer, type RunningServer } from './support/server.js';

describeBrowser('the disconnected banner', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  it('appears while the server is away and goes once it is back', { timeout: 90_000 }, async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    await signUpFromLanding(page, server.url, 'dora');
    await page.getByRole('link', { name: 'New conversation' }).first().click();
    await page.getByLabel('Title').fill('Resilience');
    await page.getByRole('button', { name: 'Create conversation' }).click();
    await visible(page.getByRole('heading', { name: 'Resilience' }));
    const banner = page.getByRole('status').filter({ hasText: /reconnecting/i });
    await gone(banner);

    await server.kill();
    await visible(banner, 15_000);
    await screenshot(page, 'disconnected-banner');

    await server.restart();
    await gone(banner, 30_000);

    // And the chat still works over the new connection.
    await page.getByRole('textbox', { name: 'Message' }).fill('Back online');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await visible(page.getByRole('log', { name: 'Messages' }).getByText('Back online'));
  });
});
