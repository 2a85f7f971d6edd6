import type { ErrorBody, InvitePreviewResponse } from '@parley/protocol';

/** A failed preview, carrying the server's error code (`invite_expired` ...). */
export class InvitePreviewError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvitePreviewError';
  }
}

/**
 * Previews an invite link without being signed in. The SDK's `previewInvite` needs a
 * connected client; a visitor opening a link does not have one yet.
 */
export async function fetchInvitePreview(baseUrl: string, token: string): Promise<InvitePreviewResponse> {
  const res = await fetch(`${baseUrl}/api/invites/${encodeURIComponent(token)}`, {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
  });
  const body = (await res.json().catch(() => null)) as (InvitePreviewResponse & Partial<ErrorBody>) | null;
  if (!res.ok || !body) {
    const code = body?.error?.code ?? (res.status === 404 ? 'invite_not_found' : 'unavailable');
    throw new InvitePreviewError(code, body?.error?.message ?? `The server answered ${res.status}.`);
  }
  return body;
}
