import { expect, it } from 'vitest';
import { describeBrowser, hasText, participantRow, screenshot } from './support/browser.js';
import { twoInAConversation, useBrowserSuite } from './support/suite.js';

describeBrowser('presence in the group panel', () => {
  const suite = useBrowserSuite({ PARLEY_PRESENCE_GRACE_MS: '300' });

  it('shows a member online while their window is open, offline once it closes, and online again when they come back', { timeout: 60_000 }, async () => {
    const { owner: lena, guest: milo } = await twoInAConversation(suite, 'lena', 'milo', 'Presence');
    // Lena's panel was open before milo joined: the join itself says he is online.
    const miloRow = participantRow(lena, 'milo');
    await hasText(miloRow, 'online');
    await hasText(participantRow(milo, 'lena'), 'online');
    await screenshot(lena, 'presence-online');

    const url = milo.url();
    const context = milo.context();
    await milo.close();
    await hasText(miloRow, 'offline');
    expect(await miloRow.getByText('online', { exact: true }).count()).toBe(0);
    await screenshot(lena, 'presence-offline');

    const back = await context.newPage();
    await back.goto(url);
    await hasText(miloRow, /\bonline\b/);
    await hasText(participantRow(back, 'milo'), 'online');
  });
});
