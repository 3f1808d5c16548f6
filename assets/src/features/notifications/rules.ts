/**
 * When this device notifies: mutes, do-not-disturb, the opt-in banner and the hidden-tab
 * notifications. Pure functions of their inputs (the time is passed in).
 */
import type { Message } from '../../api';
import { dndActive, isMuted } from '../../stores/notifications/reducer';
import type { MessagePush } from './payload';

export { dndActive, isMuted };

/** `until` per muted conversation; null = muted until unmuted. */
export type Mutes = Record<string, string | null>;

export type MuteChoice = '1h' | '8h' | 'always';

export const MUTE_CHOICES: ReadonlyArray<{ choice: MuteChoice; label: string }> = [
  { choice: '1h', label: 'Mute for 1 hour' },
  { choice: '8h', label: 'Mute for 8 hours' },
  { choice: 'always', label: 'Mute until I unmute' },
];

/** The `until` a choice sends (`PUT /notifications/mutes/{id}`). */
export function muteUntil(choice: MuteChoice, now: number): string | null {
  if (choice === 'always') return null;
  return new Date(now + (choice === '1h' ? 1 : 8) * 3_600_000).toISOString();
}

/** Do-not-disturb's end: the next 08:00 local time (tomorrow's when it is past 08:00). */
export function nextMorning(now: number): string {
  const d = new Date(now);
  d.setHours(8, 0, 0, 0);
  if (d.getTime() <= now) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

/** Short text for a mute or DND end: "until 14:30", "until Sat 08:00", "until unmuted". */
export function untilLabel(until: string | null, now: number): string {
  if (until === null) return 'until you unmute';
  const d = new Date(until);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay ? `until ${time}` : `until ${d.toLocaleDateString([], { weekday: 'short' })} ${time}`;
}

export interface OptInFacts {
  /** Push or notifications can work in this browser at all. */
  supported: boolean;
  permission: NotificationPermission;
  /** This device already has a subscription, or in-page notifications are on. */
  enabled: boolean;
  /** The user closed the banner. */
  dismissed: boolean;
  messagesSent: number;
  conversationsOpened: number;
}

/** The quiet banner: never on first load; after a first message sent or a second conversation opened. */
export function shouldOfferOptIn(f: OptInFacts): boolean {
  if (!f.supported || f.enabled || f.dismissed || f.permission === 'denied') return false;
  return f.messagesSent >= 1 || f.conversationsOpened >= 2;
}

/** `@username` in a message body (as the server reads a mention). */
export function mentions(body: string, username: string | null | undefined): boolean {
  if (!username) return false;
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
  return new RegExp(`(^|[^\\w@])@${escaped}(?![\\w])`, 'iu').test(body);
}

export interface InPageFacts {
  myId: string | null;
  /** Set in a group: a message that mentions me still notifies when the conversation is muted (the server's default). */
  myUsername?: string | null;
  permission: NotificationPermission;
  /** The user turned notifications on for this device. */
  enabled: boolean;
  visibility: DocumentVisibilityState;
  mutes: Mutes;
  dndUntil: string | null;
  now: number;
}

/** A `message.new` on the socket while the tab is hidden: notify? */
export function shouldNotifyInPage(message: Pick<Message, 'conversation_id' | 'sender_id' | 'kind' | 'body'>, f: InPageFacts): boolean {
  const muted = isMuted(f.mutes, message.conversation_id, f.now) && !mentions(message.body, f.myUsername);
  return (
    f.enabled &&
    f.permission === 'granted' &&
    f.visibility === 'hidden' &&
    message.sender_id !== f.myId &&
    message.kind !== 'call' &&
    !muted &&
    !dndActive(f.dndUntil, f.now)
  );
}

/** The same payload the server would push, for a message the tab received. */
export function messagePayload(
  m: Message,
  c: { kind: 'direct' | 'group'; name: string | null },
  sender: { id: string; display_name: string },
  hideContent: boolean,
  unread: number,
  mentioned = false,
): MessagePush {
  const line = m.body.split(/\r?\n/u).find((l) => l.trim() !== '') ?? '';
  return {
    v: 1,
    type: 'message',
    conversation_id: m.conversation_id,
    conversation_kind: c.kind,
    conversation_name: c.name,
    sender,
    message_id: m.id,
    seq: m.seq,
    ...(hideContent ? {} : { body: line.slice(0, 140), image: (m.attachments?.length ?? 0) > 0 }),
    mention: mentioned,
    hidden: hideContent,
    unread,
    sent_at: m.created_at,
  };
}
