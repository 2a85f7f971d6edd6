import { expect, it } from 'vitest';
import { describeBrowser, hasText, screenshot, signUpFromLanding, visible } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

describeBrowser('error pages', () => {
  const suite = useBrowserSuite();

  it('explains an invite link that does not exist', async () => {
    const context = await suite.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    await page.goto(`${suite.server.url}/join/this-link-was-never-made`);
    await visible(page.getByRole('heading', { name: 'This invite link does not exist' }));
    await visible(page.getByRole('link', { name: 'Go to the start page' }));
    await screenshot(page, 'invite-error-phone');
    await page.getByRole('link', { name: 'Go to the start page' }).click();
    await visible(page.getByRole('heading', { name: 'Group chat you host yourself' }));
    await screenshot(page, 'landing-phone');
    await page.getByRole('link', { name: 'Sign up' }).click();
    await visible(page.getByRole('heading', { name: 'Create your account' }));
    await screenshot(page, 'signup-phone');
  });

  it('explains a revoked invite link', { timeout: 45_000 }, async () => {
    const context = await suite.newContext();
    const page = await context.newPage();
    await signUpFromLanding(page, suite.server.url, 'erin');
    await page.getByRole('link', { name: 'New conversation' }).first().click();
    await page.getByLabel('Title').fill('Short-lived');
    await page.getByRole('button', { name: 'Create conversation' }).click();
    await page.waitForURL(/\/c\/[^/]+$/);
    const conversationId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');
    await page.getByRole('button', { name: 'Invite' }).click();
    const field = page.getByRole('textbox', { name: 'Invite link' });
    await expect.poll(() => field.inputValue()).toMatch(/\/join\//);
    const link = await field.inputValue();

    // No UI revokes links yet: revoke through the API with the same session cookie.
    const api = `${suite.server.url}/api/conversations/${encodeURIComponent(conversationId)}/invites`;
    const list = (await (await context.request.get(api)).json()) as { invites: Array<{ id: string }> };
    const invite = list.invites[0];
    expect(invite).toBeDefined();
    expect((await context.request.delete(`${api}/${invite!.id}`)).status()).toBe(204);

    const visitor = await suite.newContext();
    const other = await visitor.newPage();
    await other.goto(link);
    await visible(other.getByRole('heading', { name: 'This invite link has been revoked' }));
  });

  it('shows a not-found page for an unknown path, and a not-found state for an unknown conversation', async () => {
    const context = await suite.newContext();
    const page = await context.newPage();
    await page.goto(`${suite.server.url}/no/such/page`);
    await visible(page.getByRole('heading', { name: 'Page not found' }));
    await signUpFromLanding(page, suite.server.url, 'frank');
    await page.goto(`${suite.server.url}/c/not-a-conversation`);
    await hasText(page.getByRole('main'), 'Conversation not found');
  });
});
