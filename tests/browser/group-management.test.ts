import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser, gone, hasText, participantRow as row, screenshot, visible } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

function sidebarLink(page: Page, title: string) {
  return page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(title) });
}

describeBrowser('group management (the Kandy demo): invite, accept, decline, remove, delete', () => {
  const suite = useBrowserSuite();
  const signedIn = async (username: string): Promise<Page> => (await suite.signedIn(username)).page;

  it('runs the whole membership lifecycle live in three windows', { timeout: 120_000 }, async () => {
    const [admin, bob, carol] = await Promise.all([signedIn('kandy'), signedIn('bob'), signedIn('carol')]);

    // The admin creates a group naming two users (and one that does not exist).
    await admin.getByRole('link', { name: 'New conversation' }).first().click();
    await admin.getByLabel('Title').fill('Launch team');
    await admin.getByLabel('Invite people (optional)').fill('bob, carol, nobody_here');
    await admin.getByRole('button', { name: 'Create conversation' }).click();
    await admin.waitForURL(/\/c\/[^/]+$/);
    await hasText(admin.getByRole('status').filter({ hasText: 'nobody_here' }), /No user is called nobody_here/);
    await hasText(row(admin, 'bob'), 'invited');
    await hasText(row(admin, 'carol'), 'invited');
    await hasText(row(admin, 'kandy'), 'admin');

    // Both invitees see the invitation arrive live, with a visible notice.
    for (const page of [bob, carol]) {
      await hasText(page.getByRole('status', { name: 'Notifications' }), 'kandy invited you to “Launch team”');
      await visible(page.getByRole('button', { name: 'Accept invitation to Launch team' }));
    }

    // Bob accepts, Carol declines; every window follows.
    await bob.getByRole('button', { name: 'Accept invitation to Launch team' }).click();
    await bob.waitForURL(/\/c\/[^/]+$/);
    await visible(bob.getByRole('heading', { name: 'Launch team' }));
    await carol.getByRole('button', { name: 'Decline invitation to Launch team' }).click();
    await gone(carol.getByRole('button', { name: 'Accept invitation to Launch team' }));
    await hasText(row(admin, 'bob'), 'joined');
    await hasText(row(admin, 'carol'), 'declined');
    await hasText(row(bob, 'carol'), 'declined');
    await hasText(row(bob, 'kandy'), 'admin');
    expect(await sidebarLink(carol, 'Launch team').count()).toBe(0);

    // Members see no admin controls; the admin cannot just leave.
    expect(await bob.getByRole('button', { name: 'Delete conversation' }).count()).toBe(0);
    await admin.getByRole('button', { name: 'Leave conversation' }).click();
    await hasText(admin.getByRole('alert'), /last admin/i);

    // Live chat between the two members works.
    await bob.getByRole('textbox', { name: 'Message' }).fill('Glad to be here');
    await bob.getByRole('textbox', { name: 'Message' }).press('Enter');
    await visible(admin.getByRole('log', { name: 'Messages' }).getByText('Glad to be here'));
    await screenshot(admin, 'group-admin-desktop');

    // The admin removes Bob: he loses the conversation at once.
    await admin.getByRole('button', { name: 'Remove bob' }).click();
    await hasText(row(admin, 'bob'), 'removed');
    await hasText(bob.getByRole('status', { name: 'Notifications' }), 'You were removed from “Launch team”');
    await bob.waitForURL(/\/c$/);
    await gone(sidebarLink(bob, 'Launch team'));

    // The admin adds Carol again by username; she accepts this time; a rename reaches her live.
    await admin.getByLabel('Username to add').fill('carol');
    await admin.getByRole('button', { name: 'Add', exact: true }).click();
    await hasText(row(admin, 'carol'), 'invited');
    await carol.getByRole('button', { name: 'Accept invitation to Launch team' }).click();
    await carol.waitForURL(/\/c\/[^/]+$/);
    await hasText(row(admin, 'carol'), 'joined');
    await admin.getByLabel('Conversation title').fill('Launch crew');
    await admin.getByRole('button', { name: 'Rename' }).click();
    await visible(carol.getByRole('heading', { name: 'Launch crew' }));
    await admin.getByRole('button', { name: 'Make carol admin' }).click();
    await hasText(row(carol, 'carol'), 'admin');
    await visible(carol.getByRole('button', { name: 'Delete conversation' }));

    // The admin deletes the group (after confirming): it disappears for everyone.
    await admin.getByRole('button', { name: 'Delete conversation' }).click();
    await admin.getByRole('button', { name: 'Yes, delete' }).click();
    await admin.waitForURL(/\/c$/);
    await gone(sidebarLink(admin, 'Launch crew'));
    await hasText(carol.getByRole('status', { name: 'Notifications' }), '“Launch crew” was deleted');
    await carol.waitForURL(/\/c$/);
    await gone(sidebarLink(carol, 'Launch crew'));
  });
});
