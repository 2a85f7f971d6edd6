import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation } from '@parley/sdk';
import { connect, nextEvent, serverWithUsersAndEnv, stopAll, type TestServer, type User } from './group-helpers.js';

/** Presence (SPEC 2.4) through the SDK against a real server: who shares a conversation sees who is online. */
const GRACE_MS = 300;
let server: TestServer;
let admin: User, ann: User, ben: User, cat: User;

beforeAll(async () => {
  const started = await serverWithUsersAndEnv({ PARLEY_PRESENCE_GRACE_MS: String(GRACE_MS) }, 'pr_admin', 'pr_ann', 'pr_ben', 'pr_cat');
  server = started.server;
  [admin, ann, ben, cat] = started.users as [User, User, User, User];
});
afterAll(() => stopAll(server, [admin, ann, ben, cat]));

/** The admin's group with ann joined and cat only invited. */
async function group(): Promise<Conversation> {
  const invited = nextEvent(ann.client, 'invitationReceived');
  const { conversation } = await admin.client.createConversation({ title: 'Presence', participants: [ann.name, cat.name] });
  await invited;
  const joined = nextEvent(admin.client, 'participantJoined', (e) => e.conversationId === conversation.id);
  await ann.client.acceptInvitation(conversation.id);
  // The join says whether the newcomer is online: no presenceChanged told the admin.
  expect((await joined).participant).toMatchObject({ username: ann.name, online: true });
  return conversation;
}

/** Every `presenceChanged` a client emits about `userId`, from now on. */
function watch(user: User, userId: string): boolean[] {
  const seen: boolean[] = [];
  user.client.on('presenceChanged', (e) => {
    if (e.userId === userId) seen.push(e.online);
  });
  return seen;
}

const onlineOf = async (conversation: Conversation) =>
  Object.fromEntries((await conversation.getParticipants()).map((p) => [p.username, p.online]));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('presence', () => {
  it("lists joined participants as online or offline, and keeps invited users' presence to themselves", async () => {
    const conversation = await group();
    expect(await onlineOf(conversation)).toEqual({ [admin.name]: true, [ann.name]: true, [cat.name]: undefined });
    // Ben shares no conversation with anyone: he cannot be followed, and no one is told.
    const benId = ben.client.user.id;
    expect(await admin.client.watchPresence([benId, ann.client.user.id])).toEqual(new Map([[ann.client.user.id, true]]));
    expect(await cat.client.watchPresence([admin.client.user.id])).toEqual(new Map()); // cat is only invited
    const aboutBen = [watch(admin, benId), watch(ann, benId)];
    await ben.client.shutdown();
    await pause(GRACE_MS * 2);
    ben = { ...ben, client: await connect(server, ben.auth) };
    await pause(100);
    expect(aboutBen).toEqual([[], []]);
  });

  it('tells contacts when a user comes online and, after the grace period, when the last connection closes', async () => {
    const conversation = await group();
    const annUserId = ann.client.user.id;
    expect(await admin.client.watchPresence([annUserId])).toEqual(new Map([[annUserId, true]]));
    await cat.client.watchPresence([annUserId]);
    const seenByAdmin = watch(admin, annUserId);
    const seenByCat = watch(cat, annUserId);
    await ann.client.shutdown();
    await pause(GRACE_MS / 3);
    expect(seenByAdmin).toEqual([]); // still within the grace period
    await expect.poll(() => seenByAdmin, { timeout: 3000 }).toEqual([false]);
    expect((await onlineOf(conversation))[ann.name]).toBe(false);

    ann = { ...ann, client: await connect(server, ann.auth) };
    await expect.poll(() => seenByAdmin, { timeout: 3000 }).toEqual([false, true]);
    expect((await onlineOf(conversation))[ann.name]).toBe(true);
    expect(seenByCat).toEqual([]); // cat is only invited
    expect(admin.client.isOnline(annUserId)).toBe(true);
  });

  it('says nothing while another connection stays open, or when a reload comes back within the grace period', async () => {
    await group();
    await admin.client.watchPresence([ann.client.user.id]);
    const seen = watch(admin, ann.client.user.id);
    const secondTab = await connect(server, ann.auth);
    await secondTab.shutdown();
    const old = ann.client;
    ann = { ...ann, client: await connect(server, ann.auth) };
    await old.shutdown();
    await pause(GRACE_MS * 3);
    expect(seen).toEqual([]);
  });
});
