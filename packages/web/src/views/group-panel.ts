import type { Participant, ParticipantStatus } from '@parley/protocol';
import { h, replace, statusLine } from '../dom.js';
import { describeError } from '../errors.js';
import { Disposer, listen } from '../events.js';
import type { Client, Conversation } from '../sdk.js';
import { adminControls, type GroupActions } from './group-admin.js';
import { errorState, loading } from './layout.js';

const STATUS_ORDER: Record<ParticipantStatus, number> = { joined: 0, invited: 1, declined: 2, left: 3, removed: 4 };
const STATUS_WORDS: Record<ParticipantStatus, string> = {
  joined: 'joined',
  invited: 'invited',
  declined: 'declined',
  left: 'left',
  removed: 'removed',
};

/**
 * The group panel beside the chat: participants with status and role (live), admin
 * controls, and Leave. `actions` carries what happens to the rest of the app on leave/delete.
 */
export class GroupPanel {
  readonly el: HTMLElement;
  private readonly people = new Map<string, Participant>();
  /** Joined participants' presence: from the list, then from `presenceChanged`. */
  private readonly online = new Map<string, boolean>();
  private readonly listEl = h('div', { class: 'participants' });
  private readonly adminEl = h('div', { class: 'admin-controls' });
  private readonly status = statusLine();
  private readonly disposer = new Disposer();
  /** Closes the panel where it is a drawer (narrow screens). */
  readonly close = h('button', { type: 'button', class: 'btn btn-tiny btn-ghost panel-close', 'aria-label': 'Close group panel' }, '×');
  private loaded = false;
  private adminShown: boolean | null = null;

  constructor(
    private readonly client: Client,
    private conversation: Conversation,
    private readonly actions: GroupActions,
  ) {
    const leave = h('button', { type: 'button', class: 'btn btn-small btn-danger-outline' }, 'Leave conversation');
    leave.addEventListener('click', () => void this.run(leave, () => this.leave()));
    this.el = h(
      'aside',
      { class: 'group-panel', 'aria-label': 'Group', id: `group-${conversation.id}` },
      h('div', { class: 'panel-top' }, h('h2', { class: 'section-title' }, 'Participants'), this.close),
      this.listEl,
      this.status.el,
      this.adminEl,
      h('div', { class: 'panel-section' }, leave),
    );
    const upsert = ({ conversationId, participant }: { conversationId: string; participant: Participant }): void => {
      if (conversationId !== this.conversation.id) return;
      const known = this.people.has(participant.userId);
      this.people.set(participant.userId, participant);
      // A join says whether the newcomer is online; other changes leave presence as it was.
      if (participant.online !== undefined) this.online.set(participant.userId, participant.online);
      if (!known && participant.status === 'joined') void this.watch();
      this.render();
    };
    this.disposer.add(
      listen(client, 'participantJoined', upsert),
      listen(client, 'participantLeft', upsert),
      listen(client, 'participantUpdated', upsert),
      listen(client, 'presenceChanged', ({ userId, online }) => {
        if (!this.people.has(userId)) return;
        this.online.set(userId, online);
        this.render();
      }),
    );
  }

  /** Fetches the participants; `quiet` (after a reconnect) keeps the list shown meanwhile. */
  async load(quiet = false): Promise<void> {
    if (!quiet || !this.loaded) replace(this.listEl, loading('Loading participants…'));
    try {
      const participants = await this.conversation.getParticipants();
      for (const p of participants) {
        this.people.set(p.userId, p);
        if (p.online === undefined) this.online.delete(p.userId);
        else this.online.set(p.userId, p.online);
      }
      this.loaded = true;
      this.render();
      await this.watch();
    } catch (error) {
      if (!this.loaded) replace(this.listEl, errorState(describeError(error), () => void this.load()));
    }
  }

  /** Follows the joined members' presence from now on (the list gave it as it was then). */
  private async watch(): Promise<void> {
    const joined = [...this.people.values()].filter((p) => p.status === 'joined').map((p) => p.userId);
    try {
      const states = await this.client.watchPresence(joined);
      for (const [userId, online] of states) this.online.set(userId, online);
      this.render();
    } catch {
      // Offline: the list's presence stands, and the client follows again once reconnected.
    }
  }

  /** Re-renders the admin controls after the conversation changed (title, subject). */
  refresh(conversation: Conversation): void {
    this.conversation = conversation;
    if (!this.loaded || this.adminEl.contains(document.activeElement)) return;
    this.adminShown = null;
    this.render();
  }

  dispose(): void {
    this.disposer.dispose();
  }

  private isAdmin(): boolean {
    const me = this.people.get(this.client.user.id);
    return me ? me.role === 'admin' && me.status === 'joined' : this.conversation.myRole === 'admin';
  }

  private render(): void {
    const sorted = [...this.people.values()].sort(
      (a, b) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        Number(b.role === 'admin') - Number(a.role === 'admin') ||
        a.username.localeCompare(b.username),
    );
    const admin = this.isAdmin();
    replace(this.listEl, h('ul', { class: 'participant-list', 'aria-label': 'Participants' }, ...sorted.map((p) => this.row(p, admin))));
    if (admin === this.adminShown) return;
    this.adminShown = admin;
    if (admin) replace(this.adminEl, adminControls(this.conversation, this.status, this.actions));
    else replace(this.adminEl);
  }

  private row(p: Participant, admin: boolean): HTMLElement {
    const me = p.userId === this.client.user.id;
    const buttons: HTMLElement[] = [];
    if (admin && !me && (p.status === 'joined' || p.status === 'invited')) {
      if (p.status === 'joined' && p.role !== 'admin') buttons.push(this.button(`Make ${p.username} admin`, 'Make admin', () => this.conversation.setRole(p.userId, 'admin')));
      buttons.push(this.button(`Remove ${p.username}`, 'Remove', () => this.conversation.removeParticipant(p.userId)));
    }
    return h(
      'li',
      { class: `participant status-${p.status}` },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, p.username.slice(0, 1).toUpperCase()),
      h(
        'span',
        { class: 'participant-main' },
        h('span', { class: 'participant-name' }, h('span', {}, p.username), me ? h('span', { class: 'you' }, ' (you)') : null),
        h(
          'span',
          { class: 'participant-tags' },
          p.role === 'admin' ? h('span', { class: 'tag tag-admin' }, 'admin') : h('span', { class: 'tag' }, 'member'),
          h('span', { class: `tag tag-${p.status}` }, STATUS_WORDS[p.status]),
          this.presenceTag(p),
        ),
      ),
      buttons.length ? h('span', { class: 'participant-actions' }, ...buttons) : null,
    );
  }

  /** "online" or "offline" for a joined participant whose presence is known; nothing otherwise. */
  private presenceTag(p: Participant): HTMLElement | null {
    const online = p.status === 'joined' ? this.online.get(p.userId) : undefined;
    if (online === undefined) return null;
    return h('span', { class: `presence presence-${online ? 'online' : 'offline'}` }, online ? 'online' : 'offline');
  }

  private button(label: string, text: string, work: () => Promise<unknown>): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'btn btn-tiny', 'aria-label': label }, text);
    button.addEventListener('click', () => void this.run(button, work));
    return button;
  }

  private async run(button: HTMLButtonElement, work: () => Promise<unknown>): Promise<void> {
    button.disabled = true;
    this.status.set('');
    try {
      await work();
    } catch (error) {
      this.status.set(describeError(error), 'error');
    } finally {
      button.disabled = false;
    }
  }

  private async leave(): Promise<void> {
    await this.conversation.leave();
    this.actions.gone(`You left “${this.conversation.title}”.`);
  }
}
