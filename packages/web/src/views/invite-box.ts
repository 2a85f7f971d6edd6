import type { InviteLink } from '@parley/protocol';
import { h, statusLine } from '../dom.js';
import { describeError } from '../errors.js';
import type { Conversation } from '../sdk.js';

/**
 * The Invite button and the link it makes. The link is always shown in a selectable,
 * read-only field; copying to the clipboard is a bonus that may be unavailable or denied.
 */
export function inviteBox(conversation: Conversation): { button: HTMLButtonElement; panel: HTMLElement } {
  const button = h('button', { type: 'button', class: 'btn btn-small' }, 'Invite');
  const output = h('input', { class: 'invite-url', type: 'text', readonly: true, 'aria-label': 'Invite link' });
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy link');
  const close = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': 'Close invite link' }, '×');
  const status = statusLine();
  const row = h('div', { class: 'invite-row', hidden: true }, output, copy, close);
  const panel = h('div', { class: 'invite-box' }, row, status.el);

  const copyLink = async (): Promise<void> => {
    output.focus();
    output.select();
    const copied = await copyText(output.value);
    status.set(copied ? 'Link copied. Anyone with it can join.' : 'Copy the link above and send it to who you want to invite.', 'ok');
  };
  button.addEventListener('click', () => {
    button.disabled = true;
    status.set('Creating an invite link…');
    conversation
      .createInvite()
      .then(async (invite) => {
        output.value = inviteUrl(invite);
        row.hidden = false;
        await copyLink();
      })
      .catch((error: unknown) => status.set(describeError(error), 'error'))
      .finally(() => (button.disabled = false));
  });
  copy.addEventListener('click', () => void copyLink());
  close.addEventListener('click', () => {
    row.hidden = true;
    status.set('');
  });
  return { button, panel };
}

/** The link to share, always pointing at the origin the app is served from. */
function inviteUrl(invite: InviteLink): string {
  if (invite.token) return `${location.origin}/join/${encodeURIComponent(invite.token)}`;
  return invite.url ?? '';
}

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied or unavailable: fall through to the legacy path.
  }
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}
