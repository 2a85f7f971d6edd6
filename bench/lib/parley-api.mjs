// The few REST calls the harness needs to set Parley up (docs/protocol.md), with a small pool
// so set-up of a thousand users does not take a thousand round trips in a row.

/** Calls the API; throws with the server's error code on a non-2xx answer. */
export async function api(base, method, path, { body, token, cookie } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON; reported below if the status is bad
  }
  if (!res.ok) {
    const code = json?.error?.code ?? json?.code ?? res.status;
    throw new Error(`${method} ${path} -> ${res.status} ${code}: ${(json?.error?.message ?? text).slice(0, 200)}`);
  }
  return { json, res };
}

/** Signs a user up and returns an access token for them (session cookie -> POST /api/token). */
export async function signupWithToken(base, username, password) {
  const { res } = await api(base, 'POST', '/api/auth/signup', { body: { username, password } });
  const setCookie = res.headers.getSetCookie?.() ?? [res.headers.get('set-cookie') ?? ''];
  const session = setCookie.map((c) => /parley_session=([^;]+)/.exec(c)).find(Boolean);
  if (!session) throw new Error('signup answered without a parley_session cookie');
  const cookie = `parley_session=${session[1]}`;
  const { json } = await api(base, 'POST', '/api/token', { cookie });
  if (!json?.token) throw new Error('POST /api/token answered without a token');
  return { username, cookie, token: json.token };
}

/** Creates a conversation as `owner`; returns its id. */
export async function createConversation(base, owner, title) {
  const { json } = await api(base, 'POST', '/api/conversations', { token: owner.token, body: { title } });
  const id = json?.conversation?.conversation?.id ?? json?.conversation?.id;
  if (!id) throw new Error(`POST /api/conversations answered without an id: ${JSON.stringify(json).slice(0, 200)}`);
  return id;
}

/** Adds `members` to conversation `id` through one invite link. */
export async function joinByInvite(base, owner, id, members, concurrency) {
  if (members.length === 0) return;
  const { json } = await api(base, 'POST', `/api/conversations/${id}/invites`, {
    token: owner.token,
    body: { maxUses: Math.max(1, members.length) },
  });
  const inviteToken = json?.invite?.token;
  if (!inviteToken) throw new Error('POST /invites answered without a token');
  await pool(members, concurrency, (m) => api(base, 'POST', `/api/invites/${encodeURIComponent(inviteToken)}/join`, { token: m.token }));
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results in order. */
export async function pool(items, concurrency, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
