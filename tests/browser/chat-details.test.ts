import { expect, it } from 'vitest';
import { describeBrowser, visible } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

describeBrowser('chat details: history paging and joining while signed in', () => {
  // Seeding history sends faster than the default per-user rate limit allows.
  const suite = useBrowserSuite({ PARLEY_SEND_RATE_PER_SECOND: '1000' });
  const signedIn = (username: string) => suite.signedIn(username);

  it('loads older messages on demand and lets a signed-in visitor join by link', { timeout: 60_000 }, async () => {
    const { page: gina, context } = await signedIn('gina');
    await gina.getByRole('link', { name: 'New conversation' }).first().click();
    await gina.getByLabel('Title').fill('Long history');
    await gina.getByRole('button', { name: 'Create conversation' }).click();
    await gina.waitForURL(/\/c\/[^/]+$/);
    const id = decodeURIComponent(new URL(gina.url()).pathname.split('/')[2] ?? '');

    // Seventy messages through the API (same session), more than one page of history.
    const api = `${suite.server.url}/api/conversations/${encodeURIComponent(id)}/messages`;
    for (let i = 1; i <= 70; i += 1) {
      const res = await context.request.post(api, { data: { body: `history message ${i}`, clientId: `seed-${i}` } });
      expect(res.status()).toBe(201);
    }

    // Hank, already signed in, opens an invite link and joins with one click.
    await gina.getByRole('button', { name: 'Invite' }).click();
    const field = gina.getByRole('textbox', { name: 'Invite link' });
    await expect.poll(() => field.inputValue()).toMatch(/\/join\//);
    const { page: hank } = await signedIn('hank');
    await hank.goto(await field.inputValue());
    await visible(hank.getByRole('heading', { name: 'Join “Long history”' }));
    await hank.getByRole('button', { name: 'Join conversation' }).click();
    await hank.waitForURL(/\/c\/[^/]+$/);

    const log = hank.getByRole('log', { name: 'Messages' });
    await visible(log.getByText('history message 70', { exact: true }));
    expect(await log.getByText('history message 1', { exact: true }).count()).toBe(0);
    await log.getByRole('button', { name: 'Load older messages' }).click();
    await visible(log.getByText('history message 1', { exact: true }));
    expect(await log.getByRole('listitem').count()).toBe(70);
    const bodies = await log.locator('li .body').allInnerTexts();
    expect(bodies[0]).toBe('history message 1');
    expect(bodies.at(-1)).toBe('history message 70');
    await visible(gina.getByRole('complementary', { name: 'Group' }).getByText('hank', { exact: true }));
  });
});
