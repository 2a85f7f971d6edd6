import { expect, it } from 'vitest';
import { centreX, describeBrowser, fillCredentials, hasText, screenshot, signUpFromLanding, visible } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

describeBrowser('the tutorial journey: two people, one invite link', () => {
  const suite = useBrowserSuite();

  it('signs up, creates, invites, joins by link and chats live both ways', { timeout: 90_000 }, async () => {
    const aliceContext = await suite.newContext({ viewport: { width: 1280, height: 800 } });
    const bobContext = await suite.newContext({ viewport: { width: 1280, height: 800 } });
    const alice = await aliceContext.newPage();
    const bob = await bobContext.newPage();

    // Alice signs up from the landing page and creates a conversation.
    await signUpFromLanding(alice, suite.server.url, 'alice');
    await alice.getByRole('link', { name: 'New conversation' }).first().click();
    await alice.getByLabel('Title').fill('Weekend plans');
    await alice.getByLabel('Subject (optional)').fill('Hiking on Saturday?');
    await alice.getByRole('button', { name: 'Create conversation' }).click();
    await alice.waitForURL(/\/c\/[^/]+$/);
    await visible(alice.getByRole('heading', { name: 'Weekend plans' }));
    await visible(alice.getByText('No messages yet'));

    // Invite: the link is shown in a visible, read-only field whether or not copying worked.
    await alice.getByRole('button', { name: 'Invite' }).click();
    const linkField = alice.getByRole('textbox', { name: 'Invite link' });
    await visible(linkField);
    await expect.poll(() => linkField.inputValue()).toMatch(/\/join\/[A-Za-z0-9_-]{16,}$/);
    expect(await linkField.getAttribute('readonly')).not.toBeNull();
    const link = await linkField.inputValue();
    expect(link.startsWith(suite.server.url)).toBe(true);

    // Bob opens the link signed out, sees the title, signs up on the same page and is joined.
    await bob.goto(link);
    await visible(bob.getByRole('heading', { name: 'Join “Weekend plans”' }));
    await screenshot(bob, 'join-desktop');
    await fillCredentials(bob, 'bob', 'another good password');
    await bob.getByRole('button', { name: 'Sign up' }).click();
    await bob.waitForURL(/\/c\/[^/]+$/);
    await visible(bob.getByRole('heading', { name: 'Weekend plans' }));

    // Messages both ways, each seen live by the other (no reload).
    const bobLog = bob.getByRole('log', { name: 'Messages' });
    const aliceLog = alice.getByRole('log', { name: 'Messages' });
    await bob.getByRole('textbox', { name: 'Message' }).fill('Hi Alice, Bob here');
    await bob.getByRole('textbox', { name: 'Message' }).press('Enter');
    await visible(aliceLog.getByText('Hi Alice, Bob here'));
    await visible(bobLog.getByText('Hi Alice, Bob here'));

    const aliceBox = alice.getByRole('textbox', { name: 'Message' });
    await aliceBox.fill('Welcome Bob!');
    await aliceBox.press('Shift+Enter');
    await aliceBox.pressSequentially('Saturday at 9?');
    expect(await aliceBox.inputValue()).toBe('Welcome Bob!\nSaturday at 9?');
    await alice.getByRole('button', { name: 'Send' }).click();
    await visible(bobLog.getByText(/Welcome Bob!\s+Saturday at 9\?/));
    expect(await aliceBox.inputValue()).toBe('');

    // Author and time are shown; mine on the right, others on the left, in both windows.
    const aliceMine = aliceLog.locator('li', { hasText: 'Welcome Bob!' });
    const aliceTheirs = aliceLog.locator('li', { hasText: 'Hi Alice, Bob here' });
    await hasText(aliceTheirs, /bob\s+\d{1,2}:\d{2}/);
    const aliceMid = await centreX(aliceLog);
    expect(await centreX(aliceMine.locator('.bubble'))).toBeGreaterThan(aliceMid);
    expect(await centreX(aliceTheirs.locator('.bubble'))).toBeLessThan(aliceMid);
    const bobMid = await centreX(bobLog);
    expect(await centreX(bobLog.locator('li', { hasText: 'Hi Alice' }).locator('.bubble'))).toBeGreaterThan(bobMid);
    expect(await centreX(bobLog.locator('li', { hasText: 'Welcome Bob!' }).locator('.bubble'))).toBeLessThan(bobMid);

    // Markup in a message is shown as text, never run or rendered.
    const nasty = '<b>x</b><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    await aliceBox.fill(nasty);
    await aliceBox.press('Enter');
    await visible(bobLog.getByText(nasty, { exact: true }));
    expect(await bobLog.locator('b, script, img').count()).toBe(0);
    expect(await bob.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // Both see the conversation in their sidebar.
    await visible(bob.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Weekend plans/ }));

    await screenshot(alice, 'chat-desktop');
    await alice.setViewportSize({ width: 375, height: 740 });
    await screenshot(alice, 'chat-phone');
    await alice.getByRole('button', { name: 'Group info' }).click();
    await visible(alice.getByRole('complementary', { name: 'Group' }));
    await screenshot(alice, 'chat-phone-group');
    await alice.getByRole('button', { name: 'Group info' }).click();
    await alice.getByRole('link', { name: 'Back to conversations' }).click();
    await visible(alice.getByRole('button', { name: 'Sign out' }));
    await screenshot(alice, 'list-phone');
    await alice.setViewportSize({ width: 1280, height: 800 });

    // A message in a conversation Alice is not looking at shows as an unread badge.
    await bob.getByRole('textbox', { name: 'Message' }).fill('Are you still there?');
    await bob.getByRole('textbox', { name: 'Message' }).press('Enter');
    const aliceLink = alice.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Weekend plans/ });
    await visible(aliceLink.getByLabel('1 unread'));
    await hasText(aliceLink, 'bob: Are you still there?');
    await aliceLink.click();
    await visible(alice.getByRole('log', { name: 'Messages' }).getByText('Are you still there?'));
    await expect.poll(() => aliceLink.getByLabel(/unread/).count()).toBe(0);

    // Sign out lands on the landing page; the app is closed to a signed-out visitor.
    await alice.getByRole('button', { name: 'Sign out' }).click();
    await visible(alice.getByRole('heading', { name: 'Group chat you host yourself' }));
    expect(new URL(alice.url()).pathname).toBe('/');
    await alice.goto(`${suite.server.url}/c`);
    await alice.waitForURL(/\/signin\?next=/);
    await visible(alice.getByRole('button', { name: 'Sign in' }));
  });

  it('shows the server error on a wrong password, then signs in', { timeout: 30_000 }, async () => {
    const context = await suite.newContext();
    const page = await context.newPage();
    await page.goto(`${suite.server.url}/signin`);
    await fillCredentials(page, 'alice', 'not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await hasText(page.getByRole('alert'), 'Wrong username or password');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/c$/);
    const link = page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Weekend plans/ });
    await visible(link);
    // Alice read everything before signing out: the server remembers it.
    expect(await link.getByLabel(/unread/).count()).toBe(0);
    await screenshot(page, 'list-desktop');
  });
});
