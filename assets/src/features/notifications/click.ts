/**
 * The service worker's side of the page: which window a notification click goes to, and
 * whether a push needs a notification at all. Written against the few `Clients` methods
 * used, so tests pass plain objects.
 */
import type { NotificationData } from './payload';

/** Posted to a window to open a conversation (app/notifications.ts listens). */
export interface OpenMessage {
  type: 'nexus:open';
  conversationId: string | null;
  url: string;
}

export interface WindowLike {
  url: string;
  focused: boolean;
  visibilityState: DocumentVisibilityState;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}

export interface ClientsLike {
  matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly WindowLike[]>;
  openWindow(url: string): Promise<unknown>;
}

/** Same-origin path of a notification's data (anything else opens the app's start). */
export function safePath(url: unknown, origin: string): string {
  if (typeof url !== 'string') return '/';
  try {
    const u = new URL(url, origin);
    return u.origin === origin ? `${u.pathname}${u.search}${u.hash}` : '/';
  } catch {
    return '/';
  }
}

/**
 * A click: an open Nexus window is focused and told to open the conversation (it keeps its
 * state and socket); with none, a new window opens at the conversation's URL.
 */
export async function routeClick(data: Partial<NotificationData> | null | undefined, clients: ClientsLike, origin: string): Promise<'focused' | 'opened'> {
  const url = safePath(data?.url, origin);
  const windows = (await clients.matchAll({ type: 'window', includeUncontrolled: true })).filter((w) => sameOrigin(w.url, origin));
  const target = windows.find((w) => w.focused) ?? windows.find((w) => w.visibilityState === 'visible') ?? windows[0];
  if (target) {
    const message: OpenMessage = { type: 'nexus:open', conversationId: data?.conversationId ?? null, url };
    target.postMessage(message);
    await target.focus().catch(() => undefined);
    return 'focused';
  }
  await clients.openWindow(url);
  return 'opened';
}

/** True when the app is on screen and focused: the user sees the message there. */
export async function windowInFront(clients: ClientsLike, origin: string): Promise<boolean> {
  const windows = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  return windows.some((w) => isApp(w.url, origin) && w.focused && w.visibilityState === 'visible');
}

/** A page of the app (not, say, a JSON answer of the API opened in a tab). */
function isApp(url: string, origin: string): boolean {
  return sameOrigin(url, origin) && !new URL(url).pathname.startsWith('/api/');
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}
