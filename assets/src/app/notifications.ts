/**
 * Notifications on this device, wired to the tab: the service worker (registered at `/`,
 * src/sw/sw.ts), the device controller (push subscription, features/notifications/device.ts),
 * notifications for messages that arrive on the socket while the tab is hidden, the app
 * badge, the opt-in banner's counters, and the conversation a notification click opens.
 */
import { toast } from 'sonner';
import type { Message } from '../api';
import type { NotificationDevice } from '../features/services';
import { DeviceNotificationsController, type PushManagerLike } from '../features/notifications/device';
import type { OpenMessage } from '../features/notifications/click';
import { notificationFor } from '../features/notifications/payload';
import { mentions, messagePayload, shouldNotifyInPage } from '../features/notifications/rules';
import { conversationsSelectors, conversationTitle, notificationsSelectors, type OptInCounters } from '../stores';
import { api } from './api';
import { gateway } from './gateway';
import { navigateTo } from './route';
import { useAppStore } from './store';

const store = useAppStore;
const OPT_IN_KEY = 'nexus:notify-banner';

const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
})();

const hasNotifications = () => typeof Notification !== 'undefined';
const hasServiceWorker = () => 'serviceWorker' in navigator;

/** The active registration, or null when none comes within a few seconds. */
function registration(timeoutMs = 5_000): Promise<ServiceWorkerRegistration | null> {
  if (!hasServiceWorker()) return Promise.resolve(null);
  return Promise.race([navigator.serviceWorker.ready, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs))]).catch(() => null);
}

export const device = new DeviceNotificationsController({
  api: api.notifications,
  store,
  permission: () => (hasNotifications() ? Notification.permission : 'unsupported'),
  requestPermission: () => Notification.requestPermission(),
  pushManager: async () => {
    const reg = await registration();
    return reg && 'pushManager' in reg ? (reg.pushManager as unknown as PushManagerLike) : null;
  },
  storage,
  say: (kind, text, description) => (kind === 'error' ? toast.error(text, { description }) : toast.info(text, { description })),
});

function saveOptIn(patch: Partial<OptInCounters>): void {
  store.getState().notificationsOptIn(patch);
  storage?.setItem(OPT_IN_KEY, JSON.stringify(store.getState().notifications.optIn));
}

export const notificationDevice: NotificationDevice = {
  enable: () => device.enable(),
  disable: () => device.disable(),
  signingOut: () => device.signingOut(),
  dismissOptIn: () => saveOptIn({ dismissed: true }),
};

/** Registers the service worker (production builds: the dev server has no /sw.js). */
export function registerServiceWorker(): void {
  if (!hasServiceWorker() || !import.meta.env.PROD) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err: unknown) => {
    console.warn('service worker registration failed', err);
  });
}

function totalUnread(): number {
  const s = store.getState();
  return conversationsSelectors.totalUnread(s);
}

let badgeShown = -1;
function updateBadge(): void {
  const nav = navigator as Navigator & { setAppBadge?(n?: number): Promise<void>; clearAppBadge?(): Promise<void> };
  if (!nav.setAppBadge) return;
  const n = totalUnread();
  if (n === badgeShown) return;
  badgeShown = n;
  (n > 0 ? nav.setAppBadge(n) : (nav.clearAppBadge?.() ?? nav.setAppBadge(0))).catch(() => undefined);
}

/** A message from the socket: counts towards the banner (mine), or notifies while hidden (theirs). */
async function onMessage(m: Message): Promise<void> {
  const s = store.getState();
  const me = s.session.user?.id ?? null;
  if (m.sender_id === me) {
    saveOptIn({ messagesSent: s.notifications.optIn.messagesSent + 1 });
    return;
  }
  const n = s.notifications;
  const c = conversationsSelectors.byId(s, m.conversation_id);
  if (!c) return;
  const myUsername = c.kind === 'group' ? s.session.user?.username : null;
  const notify = shouldNotifyInPage(m, {
    myId: me,
    myUsername,
    permission: hasNotifications() ? Notification.permission : 'denied',
    enabled: notificationsSelectors.enabled(s),
    visibility: document.visibilityState,
    mutes: n.mutes,
    dndUntil: n.dndUntil,
    now: Date.now(),
  });
  if (!notify) return;
  const sender = c.members.find((x) => x.user.id === m.sender_id)?.user ?? s.conversations.users[m.sender_id];
  const name = c.kind === 'group' ? conversationTitle(c, me) : null;
  const payload = messagePayload(m, { kind: c.kind, name }, { id: m.sender_id, display_name: sender?.display_name ?? 'Someone' }, n.hideContent, totalUnread(), mentions(m.body, myUsername));
  const { title, options } = notificationFor(payload);
  const reg = await registration(2_000);
  if (reg) await reg.showNotification(title, options).catch(() => undefined);
  else if (hasNotifications()) new Notification(title, options);
}

/** Starts the notification side of the tab. Returns a cleanup. */
export function runNotifications(): () => void {
  try {
    const saved = JSON.parse(storage?.getItem(OPT_IN_KEY) ?? 'null') as Partial<OptInCounters> | null;
    if (saved) store.getState().notificationsOptIn(saved);
  } catch {
    /* a bad saved value: start over */
  }
  if (!hasNotifications()) store.getState().notificationsDevice('unsupported');
  if (store.getState().session.status === 'authenticated') void device.signedIn();

  const unsubscribe = store.subscribe((s, prev) => {
    if (s.session.status !== prev.session.status && s.session.status === 'authenticated') void device.signedIn();
    const active = s.conversations.activeId;
    if (active && active !== prev.conversations.activeId) {
      saveOptIn({ conversationsOpened: s.notifications.optIn.conversationsOpened + 1 });
    }
    if (s.conversations !== prev.conversations) updateBadge();
  });
  const stopMessages = gateway.onMessage((m) => void onMessage(m));
  // A notification clicked while this window is open: the service worker asks it to open the conversation.
  const onWorkerMessage = (e: MessageEvent<OpenMessage>) => {
    if (e.data?.type !== 'nexus:open' || !e.data.conversationId) return;
    if (store.getState().session.status === 'authenticated') navigateTo(e.data.conversationId);
    // Signed out: the URL keeps it, and the router opens it after the sign-in.
    else history.replaceState(null, '', e.data.url);
  };
  if (hasServiceWorker()) navigator.serviceWorker.addEventListener('message', onWorkerMessage);
  return () => {
    unsubscribe();
    stopMessages();
    if (hasServiceWorker()) navigator.serviceWorker.removeEventListener('message', onWorkerMessage);
  };
}
