/**
 * What a notification says, from a push payload (the server's, docs/protocol.md "Web push")
 * or from a `message.new` the tab received while hidden. Shared by the service worker
 * (src/sw.ts) and the page; no DOM, no React.
 */

export const PAYLOAD_VERSION = 1;
/** The icon every notification carries (public/icons). */
export const NOTIFICATION_ICON = '/icons/icon-192.png';

export interface PushUser {
  id: string;
  display_name: string;
}

export interface MessagePush {
  v: 1;
  type: 'message';
  conversation_id: string;
  conversation_kind: 'direct' | 'group';
  conversation_name: string | null;
  sender: PushUser;
  message_id: string;
  seq: number;
  /** First line, at most 140 characters; absent when hidden. */
  body?: string;
  image?: boolean;
  mention: boolean;
  hidden: boolean;
  /** This user's total unread, for the app badge. */
  unread: number;
  sent_at: string;
}

export interface CallPush {
  v: 1;
  type: 'call';
  call_id: string;
  conversation_id: string;
  caller: PushUser;
  unread: number;
  sent_at: string;
}

export type PushPayload = MessagePush | CallPush;

/** What `registration.showNotification(title, options)` is given. */
export interface NotificationSpec {
  title: string;
  options: {
    body: string;
    tag?: string;
    renotify?: boolean;
    requireInteraction?: boolean;
    icon: string;
    badge?: string;
    timestamp?: number;
    data: NotificationData;
  };
}

export interface NotificationData {
  /** Same-origin path that opens the conversation (or the app). */
  url: string;
  conversationId: string | null;
}

/** The app's route for a conversation (app/route.ts reads `?c=`). */
export function conversationPath(conversationId: string): string {
  return `/?c=${encodeURIComponent(conversationId)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isString = (v: unknown): v is string => typeof v === 'string';
const isUser = (v: unknown): v is PushUser => isObject(v) && isString(v.id) && isString(v.display_name);

/** Parses a decrypted push body; null for anything this client cannot read (a generic notification is shown). */
export function parsePayload(text: string | null | undefined): PushPayload | null {
  if (!text) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(v) || v.v !== PAYLOAD_VERSION || !isString(v.conversation_id)) return null;
  if (v.type === 'message') {
    const ok = (v.conversation_kind === 'direct' || v.conversation_kind === 'group') && isUser(v.sender);
    return ok ? (v as unknown as MessagePush) : null;
  }
  if (v.type === 'call') return isString(v.call_id) && isUser(v.caller) ? (v as unknown as CallPush) : null;
  return null;
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/u).find((l) => l.trim() !== '') ?? '';
  return line.length > 140 ? `${line.slice(0, 139)}…` : line;
}

function timestampOf(sentAt: string): number | undefined {
  const t = Date.parse(sentAt);
  return Number.isFinite(t) ? t : undefined;
}

/** The notification for a payload; `null` (unreadable) gives the generic one. */
export function notificationFor(payload: PushPayload | null): NotificationSpec {
  if (!payload) {
    return { title: 'Nexus', options: { body: 'You have new activity', icon: NOTIFICATION_ICON, data: { url: '/', conversationId: null } } };
  }
  const data: NotificationData = { url: conversationPath(payload.conversation_id), conversationId: payload.conversation_id };
  const timestamp = timestampOf(payload.sent_at);
  if (payload.type === 'call') {
    return {
      title: 'Incoming call',
      options: {
        body: `${payload.caller.display_name} is calling`,
        tag: `call-${payload.call_id}`,
        renotify: true,
        requireInteraction: true,
        icon: NOTIFICATION_ICON,
        ...(timestamp ? { timestamp } : {}),
        data,
      },
    };
  }
  const group = payload.conversation_kind === 'group';
  const title = group ? payload.conversation_name || 'Group' : payload.sender.display_name;
  let text: string;
  if (payload.hidden) text = 'New message';
  else if (payload.body && payload.body.trim()) text = firstLine(payload.body);
  else if (payload.image) text = '📷 Photo';
  else text = 'New message';
  const body = group && !payload.hidden ? `${payload.sender.display_name}: ${text}` : text;
  return {
    title,
    options: { body, tag: payload.conversation_id, renotify: true, icon: NOTIFICATION_ICON, ...(timestamp ? { timestamp } : {}), data },
  };
}

/** The badge count a payload carries (0 clears it). */
export function unreadOf(payload: PushPayload | null): number | null {
  return payload && typeof payload.unread === 'number' && payload.unread >= 0 ? Math.floor(payload.unread) : null;
}
