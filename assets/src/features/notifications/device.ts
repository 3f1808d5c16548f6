/**
 * This device's notifications: turning them on (permission, a push subscription sent to
 * the server) and off, re-sending the subscription after each sign-in (on a shared
 * browser the endpoint may belong to the previous account: the server re-assigns it), and
 * forgetting it at sign-out. Where the browser has no push service (headless Chromium,
 * some browsers), notifications still show while a tab is open ("in-page").
 *
 * The choice is kept per account in localStorage, so a second account on the same
 * browser does not inherit it.
 */
import type { NotificationsApi, PushSubscriptionBody } from '../../api';
import type { AppStore, DeviceNotifications } from '../../stores';
import { applicationServerKey } from './keys';

export interface PushSubscriptionLike {
  endpoint: string;
  toJSON(): unknown;
  unsubscribe(): Promise<boolean>;
}

export interface PushManagerLike {
  getSubscription(): Promise<PushSubscriptionLike | null>;
  subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array<ArrayBuffer> }): Promise<PushSubscriptionLike>;
}

export interface DeviceDeps {
  api: NotificationsApi;
  store: AppStore;
  /** Notification.permission, or 'unsupported' without the Notification API. */
  permission(): NotificationPermission | 'unsupported';
  requestPermission(): Promise<NotificationPermission>;
  /** The service worker's push manager, or null (no service worker / no Push API). */
  pushManager(): Promise<PushManagerLike | null>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** What the user is told (toasts in the app). */
  say(kind: 'info' | 'error', text: string, description?: string): void;
}

export const IN_PAGE_ONLY = 'Notifications will show while Nexus is open in a tab';

const prefKey = (userId: string) => `nexus:notify:${userId}`;

/** A subscription as the server takes it (`PushSubscription.toJSON()`), checked. */
export function subscriptionBody(sub: PushSubscriptionLike): PushSubscriptionBody {
  const json = sub.toJSON() as Partial<PushSubscriptionBody> | null;
  const keys = json?.keys;
  if (!json?.endpoint || !keys?.p256dh || !keys.auth) throw new Error('the browser gave a subscription without keys');
  return { endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

export class DeviceNotificationsController {
  constructor(private readonly deps: DeviceDeps) {}

  private get userId(): string | null {
    return this.deps.store.getState().session.user?.id ?? null;
  }

  private set(device: DeviceNotifications): void {
    this.deps.store.getState().notificationsDevice(device);
  }

  /** The user's choice on this browser. */
  wanted(): boolean {
    const id = this.userId;
    return !!id && this.deps.storage?.getItem(prefKey(id)) === 'on';
  }

  private remember(on: boolean): void {
    const id = this.userId;
    if (!id) return;
    if (on) this.deps.storage?.setItem(prefKey(id), 'on');
    else this.deps.storage?.removeItem(prefKey(id));
  }

  /**
   * After a sign-in (and at start-up when signed in): load the settings, then bring the
   * device in line with the user's choice — re-send the subscription (or make one) when on,
   * drop a leftover one when off.
   */
  async signedIn(): Promise<void> {
    const { api, store } = this.deps;
    api
      .settings()
      .then((s) => store.getState().notificationsLoaded(s))
      .catch(() => undefined);
    const permission = this.deps.permission();
    if (permission === 'unsupported') return this.set('unsupported');
    if (!this.wanted() || permission !== 'granted') {
      this.set('off');
      const pm = await this.deps.pushManager().catch(() => null);
      const leftover = await pm?.getSubscription().catch(() => null);
      // Another account's, or ours from before it was turned off: it must not notify here.
      if (leftover) await leftover.unsubscribe().catch(() => false);
      return;
    }
    this.set((await this.subscribe()) ? 'push' : 'in-page');
  }

  /** Turns notifications on: asks the permission, subscribes, tells the server. */
  async enable(): Promise<DeviceNotifications> {
    const { store } = this.deps;
    if (this.deps.permission() === 'unsupported') {
      this.set('unsupported');
      return 'unsupported';
    }
    store.getState().notificationsBusy(true);
    try {
      const permission = await this.deps.requestPermission().catch(() => 'denied' as const);
      if (permission !== 'granted') {
        this.deps.say('error', 'Notifications are blocked', 'Allow them for this site in the browser’s settings.');
        this.set('off');
        return 'off';
      }
      this.remember(true);
      const pushed = await this.subscribe();
      const device = pushed ? 'push' : 'in-page';
      this.set(device);
      if (pushed) this.deps.say('info', 'Notifications are on', 'You will be notified when Nexus is closed.');
      else this.deps.say('info', IN_PAGE_ONLY, 'This browser has no push service for Nexus.');
      return device;
    } finally {
      store.getState().notificationsBusy(false);
    }
  }

  /** Turns them off on this device: the subscription goes, here and on the server. */
  async disable(): Promise<void> {
    const { store } = this.deps;
    store.getState().notificationsBusy(true);
    try {
      this.remember(false);
      await this.dropSubscription(true);
      this.set(this.deps.permission() === 'unsupported' ? 'unsupported' : 'off');
    } finally {
      store.getState().notificationsBusy(false);
    }
  }

  /** Before signing out: the server forgets this device (bounded: sign-out must not hang). */
  async signingOut(timeoutMs = 3_000): Promise<void> {
    await Promise.race([this.dropSubscription(false), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  /** Subscribes (or re-uses the browser's subscription) and sends it to the server. False: in-page only. */
  private async subscribe(): Promise<boolean> {
    const { api } = this.deps;
    try {
      const pm = await this.deps.pushManager();
      if (!pm) return false;
      const key = await api.pushKey();
      if (!key.enabled || !key.public_key) return false;
      let sub = await pm.getSubscription();
      if (!sub) sub = await pm.subscribe({ userVisibleOnly: true, applicationServerKey: applicationServerKey(key.public_key) });
      await api.subscribe(subscriptionBody(sub));
      return true;
    } catch {
      // No push service (headless Chromium, some browsers), a changed server key, push off.
      return false;
    }
  }

  private async dropSubscription(unsubscribe: boolean): Promise<void> {
    const pm = await this.deps.pushManager().catch(() => null);
    const sub = await pm?.getSubscription().catch(() => null);
    if (!sub) return;
    await this.deps.api.unsubscribe(sub.endpoint).catch(() => undefined);
    if (unsubscribe) await sub.unsubscribe().catch(() => false);
  }
}
