import { describe, expect, it } from 'vitest';
import { Account, groupOf, type Socket } from './support/chat-client.js';
import { startServer, type ServerProcess } from './support/server-process.js';
import { servicesAvailable } from './support/services.js';
import { useTwoProcesses } from './support/two-processes.js';

/*
 * Presence across two real processes sharing PostgreSQL and Redis: a user online on one process
 * is online for contacts on the other, and a process killed without a word takes its users
 * offline once its heartbeat lapses.
 */
const available = await servicesAvailable('multi-process presence tests');
const TTL_MS = 900;
const GRACE_MS = 600;

describe.skipIf(!available)('presence across processes', () => {
  const two = useTwoProcesses({ PARLEY_PRESENCE_GRACE_MS: String(GRACE_MS), PARLEY_PRESENCE_TTL_MS: String(TTL_MS) });
  const connect = (account: Account, at: ServerProcess): Promise<Socket> => two.connect(account, at);

  /** The `online` of every joined participant, by username, as `reader` lists them on `at`. */
  async function onlineOf(reader: Account, at: ServerProcess, room: string): Promise<Record<string, boolean | undefined>> {
    const { participants } = await reader.api<{ participants: { username: string; online?: boolean }[] }>(at, 'GET', `/conversations/${room}/participants`);
    return Object.fromEntries(participants.map((p) => [p.username, p.online]));
  }

  it('shows a user online everywhere while any process holds a connection, and offline after the last closes', async () => {
    const { p1, p2 } = two;
    const ada = await Account.signUp(p1, 'ada');
    const bob = await Account.signUp(p2, 'bob');
    const room = await groupOf(p1, ada, [[bob, p2]]);
    const adaOnP1 = await connect(ada, p1);
    expect(await onlineOf(ada, p2, room)).toEqual({ [ada.username]: true, [bob.username]: false });

    // Ada follows bob from p1; bob comes online on p2.
    expect(await adaOnP1.request({ type: 'watchPresence', userIds: [bob.userId] })).toMatchObject({ type: 'presence', watching: [bob.userId], online: [] });
    const bobOnP2 = await connect(bob, p2);
    await adaOnP1.event('presenceChanged', (d) => d.userId === bob.userId && d.online === true);
    // A second connection on the other process: no news for anyone.
    const bobOnP1 = await connect(bob, p1);
    bobOnP2.close();
    await new Promise((r) => setTimeout(r, 400));
    expect(adaOnP1.events('presenceChanged').filter((f) => f.data?.userId === bob.userId)).toHaveLength(1);
    expect(await onlineOf(ada, p1, room)).toMatchObject({ [bob.username]: true });
    bobOnP1.close();
    await adaOnP1.event('presenceChanged', (d) => d.userId === bob.userId && d.online === false);
    expect(await onlineOf(ada, p2, room)).toMatchObject({ [bob.username]: false });
  });

  it('does not announce users offline whose clients move to another process during a rolling restart', async () => {
    const { p1, p2 } = two;
    const eve = await Account.signUp(p1, 'eve');
    const fay = await Account.signUp(p2, 'fay');
    const room = await groupOf(p2, fay, [[eve, p1]]);
    const fayOnP2 = await connect(fay, p2);
    await fayOnP2.request({ type: 'watchPresence', userIds: [eve.userId] });
    const eveOnP1 = await connect(eve, p1);
    await fayOnP2.event('presenceChanged', (d) => d.userId === eve.userId && d.online === true);

    const stopped = p1.stop('SIGTERM');
    expect(await eveOnP1.closed).toBe(1001); // "going away": reconnect elsewhere
    // As a client does, after a short backoff, but within the grace period.
    await new Promise((r) => setTimeout(r, GRACE_MS / 3));
    await connect(eve, p2);
    await stopped;
    await new Promise((r) => setTimeout(r, GRACE_MS));
    expect(fayOnP2.events('presenceChanged').filter((f) => f.data?.userId === eve.userId).map((f) => f.data?.online)).toEqual([true]);
    expect(await onlineOf(fay, p2, room)).toMatchObject({ [eve.username]: true });
  });

  it('takes the users of a process killed with SIGKILL offline once its heartbeat lapses', async () => {
    const { p2 } = two;
    const p3 = await startServer('p3', two.env);
    const cy = await Account.signUp(p3, 'cy');
    const dan = await Account.signUp(p2, 'dan');
    const room = await groupOf(p2, dan, [[cy, p3]]);
    const danOnP2 = await connect(dan, p2);
    await danOnP2.request({ type: 'watchPresence', userIds: [cy.userId] });
    await connect(cy, p3);
    await danOnP2.event('presenceChanged', (d) => d.userId === cy.userId && d.online === true);
    expect(await onlineOf(dan, p2, room)).toMatchObject({ [cy.username]: true });

    const killedAt = Date.now();
    await p3.stop('SIGKILL');
    const offline = await danOnP2.event('presenceChanged', (d) => d.userId === cy.userId && d.online === false, 10_000);
    expect(offline.data).toEqual({ userId: cy.userId, online: false });
    // Within a few heartbeats of the kill.
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS * 4);
    expect(await onlineOf(dan, p2, room)).toMatchObject({ [cy.username]: false });
  });
});
