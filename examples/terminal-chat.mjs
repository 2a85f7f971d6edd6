#!/usr/bin/env node
/**
 * Terminal chat: a runnable example of @parley/sdk in plain Node.js (20+).
 *
 * Build first (`npm run build` at the repository root), start a server (`npm start`), then in
 * two terminals:
 *
 *   node examples/terminal-chat.mjs --url http://localhost:8000 --user alice --password alice-secret --create "Lunch"
 *     -> prints an invite link, e.g. http://localhost:8000/join/3q2...
 *   node examples/terminal-chat.mjs --url http://localhost:8000 --user bob --password bob-secret --join http://localhost:8000/join/3q2...
 *
 * Each run signs the user up (or in, when the account exists). Without --create or --join it
 * opens the most recently active conversation. Lines typed on stdin are sent; incoming messages,
 * edits, removals, joins and leaves are printed, each message with its index (`#12`).
 * `/edit 12 new text` edits your message 12, `/delete 12` removes it (an admin may remove
 * anyone's), `/who` lists the members and who is online (comings and goings are printed too),
 * `/quit` or Ctrl-D exits.
 *
 * Options: --url (default http://localhost:8000), --user, --password, --create <title>,
 * --join <invite url or token>.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { AuthClient, Client, ParleyError } from '@parley/sdk';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:8000' },
    user: { type: 'string' },
    password: { type: 'string' },
    create: { type: 'string' },
    join: { type: 'string' },
  },
});

function fail(message) {
  console.error(message);
  process.exit(1);
}

if (!args.user || !args.password) fail('Usage: terminal-chat.mjs --user NAME --password SECRET [--url URL] [--create TITLE | --join LINK]');

/** Signs up, or signs in when the username is taken. */
async function signIn(auth) {
  try {
    await auth.signUp(args.user, args.password);
    console.log(`Signed up as ${args.user}.`);
  } catch (err) {
    if (!(err instanceof ParleyError) || err.code !== 'username_taken') throw err;
    await auth.signIn(args.user, args.password);
    console.log(`Signed in as ${args.user}.`);
  }
}

/** The conversation to chat in: created, joined by link, or the most recent one. */
async function pickConversation(client) {
  if (args.create) {
    const { conversation } = await client.createConversation({ title: args.create });
    const invite = await conversation.createInvite();
    console.log(`Created "${conversation.title}". Invite link: ${invite.url ?? invite.token}`);
    return conversation;
  }
  if (args.join) {
    const conversation = await client.joinByInvite(args.join);
    console.log(`Joined "${conversation.title}".`);
    return conversation;
  }
  const [latest] = await client.getSubscribedConversations();
  if (!latest) fail('You are in no conversation yet: use --create "Title" or --join <invite link>.');
  console.log(`Opened "${latest.title}".`);
  return latest;
}

/** Messages seen, by index, so that `/edit` and `/delete` can name them by index. */
const seen = new Map();

async function printRecent(conversation) {
  const page = await conversation.getMessages({ limit: 10 });
  for (const message of page.items) printMessage(message);
}

function printMessage(message) {
  seen.set(message.index, message);
  const time = new Date(message.createdAt).toLocaleTimeString();
  const text = message.removedAt ? '(removed)' : `${message.body}${message.editedAt ? ' (edited)' : ''}`;
  console.log(`#${message.index} [${time}] ${message.author}: ${text}`);
}

/** `/edit N text` and `/delete N`; true when the line was one of them. */
function command(conversation, line) {
  const match = /^\/(edit|delete)\s+(\d+)\s*(.*)$/s.exec(line);
  if (!match) return false;
  const [, verb, index, text] = match;
  const message = seen.get(Number(index));
  if (!message) {
    console.error(`! no message #${index} seen here`);
    return true;
  }
  const done = verb === 'edit' ? conversation.updateMessage(message.id, text) : conversation.removeMessage(message.id);
  done.catch((err) => console.error(`! not ${verb === 'edit' ? 'edited' : 'removed'}: ${err.code ?? ''} ${err.message}`));
  return true;
}

/** Member names by user id, for presence lines. */
const names = new Map();

/** `/who`: the joined members, online or not; their comings and goings are printed from then on. */
async function who(client, conversation) {
  const joined = (await conversation.getParticipants()).filter((p) => p.status === 'joined');
  for (const p of joined) names.set(p.userId, p.username);
  const online = await client.watchPresence(joined.map((p) => p.userId));
  const state = (p) => ((online.get(p.userId) ?? p.online) ? 'online' : 'offline');
  console.log(`* ${joined.map((p) => `${p.username} (${state(p)})`).join(', ')}`);
}

async function main() {
  const auth = new AuthClient({ baseUrl: args.url });
  await signIn(auth);
  const client = await Client.create(await auth.getToken(), {
    baseUrl: args.url,
    getToken: () => auth.getToken(),
    WebSocket,
  });
  const conversation = await pickConversation(client);
  await printRecent(conversation);

  conversation.on('messageAdded', (message) => {
    if (message.authorId !== client.user.id) printMessage(message);
  });
  conversation.on('messageUpdated', (message) => {
    console.log(`* #${message.index} edited by ${message.author}:`);
    printMessage(message);
  });
  conversation.on('messageRemoved', ({ index, message }) => {
    seen.set(index, message);
    console.log(`* #${index} was removed`);
  });
  conversation.on('participantJoined', ({ participant }) => {
    names.set(participant.userId, participant.username);
    console.log(`* ${participant.username} joined`);
    void client.watchPresence([...names.keys()]).catch(() => undefined);
  });
  client.on('presenceChanged', ({ userId, online }) => {
    if (names.has(userId)) console.log(`* ${names.get(userId)} is ${online ? 'online' : 'offline'}`);
  });
  conversation.on('participantLeft', ({ participant }) => console.log(`* ${participant.username} left`));
  conversation.on('removed', ({ reason }) => {
    console.log(`* The conversation is gone (${reason}).`);
    void client.shutdown().then(() => process.exit(0));
  });
  client.on('connectionStateChanged', (state) => {
    if (state !== 'connected') console.log(`* connection: ${state}`);
    else console.log('* connected');
  });
  client.on('error', (err) => console.error(`! ${err.code}: ${err.message}`));

  await who(client, conversation);
  console.log('Type a message and press Enter (/edit N text, /delete N, /who, /quit to leave).');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const body = line.trim();
    if (body === '/quit') return rl.close();
    if (body === '/who') return void who(client, conversation).catch((err) => console.error(`! ${err.message}`));
    if (!body || command(conversation, body)) return;
    conversation.sendMessage(body).then(
      (message) => printMessage(message),
      (err) => console.error(`! not sent: ${err.message}`),
    );
  });
  rl.on('close', async () => {
    client.removeAllListeners('connectionStateChanged');
    await client.shutdown();
    process.exit(0);
  });
}

main().catch((err) => fail(err instanceof ParleyError ? `${err.code}: ${err.message}` : String(err?.stack ?? err)));
