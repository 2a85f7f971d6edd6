import { expect, it } from 'vitest';
import type { BrowserContext, WebSocketRoute } from 'playwright-core';
import { describeBrowser, gone, screenshot, visible } from './support/browser.js';
import { twoInAConversation, useBrowserSuite } from './support/suite.js';

describeBrowser('editing and deleting messages in two windows', () => {
  const suite = useBrowserSuite();

  it('the author edits and deletes, an admin deletes a member’s message, and both windows follow live', { timeout: 60_000 }, async () => {
    const { owner: iris, guest: jack } = await twoInAConversation(suite, 'iris', 'jack', 'Edits');

    const irisLog = iris.getByRole('log', { name: 'Messages' });
    const jackLog = jack.getByRole('log', { name: 'Messages' });
    await jack.getByRole('textbox', { name: 'Message' }).fill('hello from jack');
    await jack.keyboard.press('Enter');
    await iris.getByRole('textbox', { name: 'Message' }).fill('meet at 11');
    await iris.keyboard.press('Enter');
    await visible(jackLog.getByText('meet at 11', { exact: true }));

    // A member sees Edit and Delete on their own messages only.
    const jacksOwn = jackLog.getByRole('listitem').filter({ hasText: 'hello from jack' });
    await visible(jacksOwn.getByRole('button', { name: 'Edit message “hello from jack”' }));
    const irisFromJack = jackLog.getByRole('listitem').filter({ hasText: 'meet at 11' });
    expect(await irisFromJack.getByRole('button').count()).toBe(0);

    // Iris edits hers; Escape first leaves it as it was.
    const mine = irisLog.getByRole('listitem').filter({ hasText: 'meet at 11' });
    await mine.getByRole('button', { name: 'Edit message “meet at 11”' }).click();
    const editor = irisLog.getByRole('textbox', { name: 'Edit message' });
    await editor.press('Escape');
    expect(await editor.count()).toBe(0);
    // The focus goes back where it was, on the Edit button.
    expect(await iris.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Edit message “meet at 11”');
    await mine.getByRole('button', { name: 'Edit message “meet at 11”' }).click();
    // A blank body is refused in place, and the text box stays open.
    await editor.fill('   ');
    await editor.press('Enter');
    await visible(irisLog.getByRole('alert').getByText('A message cannot be empty: use Delete to remove it'));
    await editor.fill('meet at 10');
    await screenshot(iris, 'message-editing');
    await editor.press('Enter');
    const edited = jackLog.getByRole('listitem').filter({ hasText: 'meet at 10' });
    await visible(edited);
    await visible(edited.getByText('edited', { exact: true }));
    await visible(irisLog.getByRole('listitem').filter({ hasText: 'meet at 10' }).getByText('edited', { exact: true }));
    expect(await jackLog.getByText('meet at 11').count()).toBe(0);

    // Iris deletes hers (confirmed in place), then, as admin, Jack's.
    await irisLog.getByRole('button', { name: 'Delete message “meet at 10”' }).click();
    await screenshot(iris, 'message-delete-confirm');
    await expect.poll(() => iris.evaluate(() => document.activeElement?.textContent)).toBe('Delete');
    expect(await irisLog.getByRole('button', { name: 'Delete', exact: true }).getAttribute('aria-describedby')).toBeTruthy();
    await visible(irisLog.getByRole('button', { name: 'Delete', exact: true }).and(iris.getByRole('button', { description: 'Delete this message?' })));
    await irisLog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => jackLog.getByText('This message was removed').count()).toBe(1);
    await screenshot(jack, 'message-removed-member');
    expect(await jackLog.getByText('meet at 10').count()).toBe(0);
    await irisLog.getByRole('button', { name: 'Delete message “hello from jack”' }).click();
    await irisLog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => jackLog.getByText('This message was removed').count()).toBe(2);
    await expect.poll(() => irisLog.getByText('This message was removed').count()).toBe(2);
    expect(await jackLog.getByRole('button', { name: /^(Edit|Delete) message/ }).count()).toBe(0);

    // After a reload the history shows the same: both removed, in place.
    await jack.reload();
    await expect.poll(() => jack.getByRole('log', { name: 'Messages' }).locator('li .body').allInnerTexts()).toEqual([
      'This message was removed',
      'This message was removed',
    ]);
  });

  it('shows what was edited or removed while a window was disconnected, once it is back', { timeout: 60_000 }, async () => {
    // Lee's WebSocket goes through a route the test can cut, and keep cut for a while.
    const sockets: WebSocketRoute[] = [];
    let cut = false;
    const { owner: kim, guest: lee } = await twoInAConversation(suite, 'kim', 'lee', 'Offline edits', (context) =>
      context.routeWebSocket(/\/ws/, (ws) => {
        if (cut) return void ws.close();
        sockets.push(ws);
        ws.connectToServer();
      }),
    );
    const kimLog = kim.getByRole('log', { name: 'Messages' });
    const leeLog = lee.getByRole('log', { name: 'Messages' });
    for (const text of ['lunch at noon', 'bring the slides']) {
      await kim.getByRole('textbox', { name: 'Message' }).fill(text);
      await kim.keyboard.press('Enter');
      await visible(leeLog.getByText(text, { exact: true }));
    }

    cut = true;
    for (const socket of sockets) await socket.close();
    const banner = lee.getByRole('status').filter({ hasText: /reconnecting/i });
    await visible(banner, 15_000);
    await kimLog.getByRole('button', { name: 'Edit message “lunch at noon”' }).click();
    await kimLog.getByRole('textbox', { name: 'Edit message' }).fill('lunch at one');
    await kimLog.getByRole('textbox', { name: 'Edit message' }).press('Enter');
    await visible(kimLog.getByText('lunch at one', { exact: true }));
    await kimLog.getByRole('button', { name: 'Delete message “bring the slides”' }).click();
    await kimLog.getByRole('button', { name: 'Delete', exact: true }).click();
    await visible(kimLog.getByText('This message was removed'));
    expect(await leeLog.getByText('lunch at noon', { exact: true }).count()).toBe(1);

    cut = false;
    await gone(banner, 30_000);
    await visible(leeLog.getByText('lunch at one', { exact: true }));
    await visible(leeLog.getByText('This message was removed'));
    expect(await leeLog.getByText('lunch at noon').count()).toBe(0);
    expect(await leeLog.getByText('bring the slides').count()).toBe(0);
  });
});
