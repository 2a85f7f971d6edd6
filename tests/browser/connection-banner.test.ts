import { it } from 'vitest';
import { describeBrowser, gone, screenshot, signUpFromLanding, visible } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

describeBrowser('the disconnected banner', () => {
  const suite = useBrowserSuite();

  it('appears while the server is away and goes once it is back', { timeout: 90_000 }, async () => {
    const context = await suite.newContext();
    const page = await context.newPage();
    await signUpFromLanding(page, suite.server.url, 'dora');
    await page.getByRole('link', { name: 'New conversation' }).first().click();
    await page.getByLabel('Title').fill('Resilience');
    await page.getByRole('button', { name: 'Create conversation' }).click();
    await visible(page.getByRole('heading', { name: 'Resilience' }));
    const banner = page.getByRole('status').filter({ hasText: /reconnecting/i });
    await gone(banner);

    await suite.server.kill();
    await visible(banner, 15_000);
    await screenshot(page, 'disconnected-banner');

    await suite.server.restart();
    await gone(banner, 30_000);

    // And the chat still works over the new connection.
    await page.getByRole('textbox', { name: 'Message' }).fill('Back online');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await visible(page.getByRole('log', { name: 'Messages' }).getByText('Back online'));
  });
});
