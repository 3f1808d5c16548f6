import { describe, expect, it, vi } from 'vitest';
import type { NotificationsApi } from '../../api';
import { createAppStore } from '../../stores';
import { ME } from '../../test/fixtures';
import { DeviceNotificationsController, IN_PAGE_ONLY, type DeviceDeps, type PushSubscriptionLike } from './device';

const KEY = btoa(String.fromCharCode(...Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : i)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function sub(endpoint = 'https://push.example/ep1'): PushSubscriptionLike & { unsubscribe: ReturnType<typeof vi.fn> } {
  return { endpoint, toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'pk', auth: 'au' } }), unsubscribe: vi.fn().mockResolvedValue(true) };
}

function setup(opts: { permission?: NotificationPermission | 'unsupported'; existing?: PushSubscriptionLike | null; subscribeFails?: boolean; pushEnabled?: boolean } = {}) {
  const store = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
  const api = {
    pushKey: vi.fn().mockResolvedValue({ enabled: opts.pushEnabled ?? true, public_key: KEY }),
    subscribe: vi.fn().mockResolvedValue({ id: 's1' }),
    unsubscribe: vi.fn().mockResolvedValue(undefined),
    settings: vi.fn().mockResolvedValue({ hide_content: true, dnd_until: null, mutes: [{ conversation_id: 'c1', until: null }] }),
  };
  let current = opts.existing ?? null;
  const fresh = sub('https://push.example/new');
  const pushManager = {
    getSubscription: vi.fn(async () => current),
    subscribe: vi.fn(async (_options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array<ArrayBuffer> }) => {
      if (opts.subscribeFails) throw new DOMException('Registration failed - push service not available', 'AbortError');
      current = fresh;
      return fresh;
    }),
  };
  const saved = new Map<string, string>();
  let permission = opts.permission ?? 'default';
  const deps: DeviceDeps = {
    api: api as unknown as NotificationsApi,
    store,
    permission: () => permission,
    requestPermission: vi.fn(async () => {
      permission = 'granted';
      return 'granted' as const;
    }),
    pushManager: async () => pushManager,
    storage: { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => void saved.set(k, v), removeItem: (k) => void saved.delete(k) },
    say: vi.fn(),
  };
  return { controller: new DeviceNotificationsController(deps), api, pushManager, store, deps, saved, fresh };
}

describe('DeviceNotificationsController', () => {
  it('enable: asks the permission, subscribes with the server key, posts toJSON()', async () => {
    const t = setup();
    await expect(t.controller.enable()).resolves.toBe('push');
    expect(t.deps.requestPermission).toHaveBeenCalled();
    const options = t.pushManager.subscribe.mock.calls[0]![0]!;
    expect(options.userVisibleOnly).toBe(true);
    expect(options.applicationServerKey).toHaveLength(65);
    expect(t.api.subscribe).toHaveBeenCalledWith({ endpoint: 'https://push.example/new', expirationTime: null, keys: { p256dh: 'pk', auth: 'au' } });
    expect(t.store.getState().notifications.device).toBe('push');
    expect(t.controller.wanted()).toBe(true);
  });

  it('enable without a push service: in-page notifications, and the user is told', async () => {
    const t = setup({ subscribeFails: true });
    await expect(t.controller.enable()).resolves.toBe('in-page');
    expect(t.api.subscribe).not.toHaveBeenCalled();
    expect(t.store.getState().notifications.device).toBe('in-page');
    expect(t.deps.say).toHaveBeenCalledWith('info', IN_PAGE_ONLY, expect.any(String));
  });

  it('enable with push off on the server: in-page', async () => {
    const t = setup({ pushEnabled: false });
    await expect(t.controller.enable()).resolves.toBe('in-page');
    expect(t.pushManager.subscribe).not.toHaveBeenCalled();
  });

  it('enable refused by the user: off, nothing subscribed', async () => {
    const t = setup();
    t.deps.requestPermission = vi.fn().mockResolvedValue('denied');
    await expect(t.controller.enable()).resolves.toBe('off');
    expect(t.pushManager.subscribe).not.toHaveBeenCalled();
    expect(t.deps.say).toHaveBeenCalledWith('error', expect.any(String), expect.any(String));
  });

  it('after a sign-in with notifications on: the existing subscription is sent again (re-assigned)', async () => {
    const existing = sub();
    const t = setup({ permission: 'granted', existing });
    t.saved.set(`nexus:notify:${ME.id}`, 'on');
    await t.controller.signedIn();
    expect(t.pushManager.subscribe).not.toHaveBeenCalled();
    expect(t.api.subscribe).toHaveBeenCalledWith(expect.objectContaining({ endpoint: existing.endpoint }));
    expect(t.store.getState().notifications.device).toBe('push');
    await vi.waitFor(() => expect(t.store.getState().notifications.hideContent).toBe(true));
    expect(t.store.getState().notifications.mutes).toEqual({ c1: null });
  });

  it('after a sign-in of an account that did not turn them on: a leftover subscription is dropped', async () => {
    const leftover = sub();
    const t = setup({ permission: 'granted', existing: leftover });
    await t.controller.signedIn();
    expect(leftover.unsubscribe).toHaveBeenCalled();
    expect(t.api.subscribe).not.toHaveBeenCalled();
    expect(t.store.getState().notifications.device).toBe('off');
  });

  it('disable: DELETE on the server with the endpoint, and unsubscribed here', async () => {
    const existing = sub();
    const t = setup({ permission: 'granted', existing });
    await t.controller.disable();
    expect(t.api.unsubscribe).toHaveBeenCalledWith(existing.endpoint);
    expect(existing.unsubscribe).toHaveBeenCalled();
    expect(t.store.getState().notifications.device).toBe('off');
    expect(t.controller.wanted()).toBe(false);
  });

  it('signing out: the server forgets this device', async () => {
    const existing = sub();
    const t = setup({ permission: 'granted', existing });
    await t.controller.signingOut();
    expect(t.api.unsubscribe).toHaveBeenCalledWith(existing.endpoint);
  });

  it('without the Notification API: unsupported', async () => {
    const t = setup({ permission: 'unsupported' });
    await expect(t.controller.enable()).resolves.toBe('unsupported');
    await t.controller.signedIn();
    expect(t.store.getState().notifications.device).toBe('unsupported');
  });
});
