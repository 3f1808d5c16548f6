// @vitest-environment happy-dom
/**
 * The mute choices in a conversation's menu call the API and show the answer; the account
 * menu's settings; the opt-in banner appears only once it is due.
 */
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NexusApi } from '../../api';
import { conversation } from '../../test/fixtures';
import { click, fakeServices, render, type FakeServices, type Rendered } from '../../test/services';
import { ChatHeader } from '../chat/ChatHeader';
import { UserCard } from '../shell/UserCard';
import { OptInBanner } from './OptInBanner';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
  vi.unstubAllGlobals();
});

function withNotificationsApi(services: FakeServices) {
  const api = {
    mute: vi.fn(async (conversation_id: string, until: string | null) => ({ conversation_id, until })),
    unmute: vi.fn().mockResolvedValue(undefined),
    updateSettings: vi.fn(async (patch: { hide_content?: boolean; dnd_until?: string | null }) => ({
      hide_content: patch.hide_content ?? false,
      dnd_until: patch.dnd_until ?? null,
      mutes: [],
    })),
  };
  services.api = { notifications: api } as unknown as NexusApi;
  return api;
}

const flush = () => act(async () => new Promise((r) => setTimeout(r, 0)));

function menuItem(name: string): HTMLElement {
  const items = [...document.querySelectorAll<HTMLElement>('[role="menuitem"], [role="menuitemcheckbox"]')];
  const item = items.find((el) => el.textContent?.startsWith(name));
  if (!item) throw new Error(`no menu item ${name} among ${items.map((i) => i.textContent).join(' | ')}`);
  return item;
}

describe('mute menu', () => {
  it('Mute for 1 hour → PUT with an end an hour away; then the menu offers Unmute → DELETE', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-04T15:00:00Z'), toFake: ['Date'] });
    const services = fakeServices();
    const api = withNotificationsApi(services);
    const c = conversation();
    services.store.getState().conversationsUpserted(c);
    view = render(<ChatHeader conversation={c} title="Bob" />, services);

    click(view.button('Conversation options'));
    click(menuItem('Mute for 1 hour'));
    await flush();
    expect(api.mute).toHaveBeenCalledWith('c1', '2026-12-04T16:00:00.000Z');
    expect(services.store.getState().notifications.mutes).toEqual({ c1: '2026-12-04T16:00:00.000Z' });
    expect(view.container.querySelector('h2')?.textContent).toContain('(muted)');

    click(view.button('Conversation options'));
    click(menuItem('Unmute'));
    await flush();
    expect(api.unmute).toHaveBeenCalledWith('c1');
    expect(services.store.getState().notifications.mutes).toEqual({});
    vi.useRealTimers();
  });

  it('Mute until I unmute → PUT with null; a group keeps Members and Leave around it', async () => {
    const services = fakeServices();
    const api = withNotificationsApi(services);
    const c = conversation({ id: 'g1', kind: 'group', name: 'Crew' });
    services.store.getState().conversationsUpserted(c);
    view = render(<ChatHeader conversation={c} title="Crew" />, services);
    click(view.button('Group options'));
    const labels = [...document.querySelectorAll('[role="menuitem"]')].map((el) => el.querySelector('span span')?.textContent);
    expect(labels).toEqual(['Members', 'Mute for 1 hour', 'Mute for 8 hours', 'Mute until I unmute', 'Leave group']);
    click(menuItem('Mute until I unmute'));
    await flush();
    expect(api.mute).toHaveBeenCalledWith('g1', null);
    expect(services.store.getState().notifications.mutes).toEqual({ g1: null });
  });
});

describe('account menu', () => {
  it('Do not disturb and Hide message content are toggles that PATCH the settings', async () => {
    const services = fakeServices();
    const api = withNotificationsApi(services);
    services.store.getState().notificationsDevice('off');
    view = render(<UserCard />, services);
    click(view.button('Account menu'));
    expect(menuItem('Do not disturb').getAttribute('aria-checked')).toBe('false');
    click(menuItem('Do not disturb'));
    await flush();
    const sent = api.updateSettings.mock.calls[0]![0];
    expect(Date.parse(sent.dnd_until!)).toBeGreaterThan(Date.now());
    expect(services.store.getState().notifications.dndUntil).toBe(sent.dnd_until);

    click(view.button('Account menu'));
    click(menuItem('Hide message content'));
    await flush();
    expect(api.updateSettings).toHaveBeenLastCalledWith({ hide_content: true });

    click(view.button('Account menu'));
    click(menuItem('Notifications on this device'));
    expect(services.notifications.enable).toHaveBeenCalled();
  });
});

describe('OptInBanner', () => {
  it('hidden at first; shown after a second conversation opened; Enable and Not now', () => {
    vi.stubGlobal('Notification', { permission: 'default' });
    const services = fakeServices();
    services.store.getState().notificationsDevice('off');
    services.store.getState().notificationsOptIn({ conversationsOpened: 1 });
    view = render(<OptInBanner />, services);
    expect(view.container.textContent).not.toContain('Get notified');
    act(() => services.store.getState().notificationsOptIn({ conversationsOpened: 2 }));
    expect(view.container.textContent).toContain('Get notified when Nexus is closed');
    const enable = [...view.container.querySelectorAll('button')].find((b) => b.textContent === 'Enable')!;
    click(enable);
    expect(services.notifications.enable).toHaveBeenCalled();
    click(view.button('Not now'));
    expect(services.notifications.dismissOptIn).toHaveBeenCalled();
  });

  it('not once notifications are on', () => {
    vi.stubGlobal('Notification', { permission: 'granted' });
    const services = fakeServices();
    services.store.getState().notificationsDevice('push');
    services.store.getState().notificationsOptIn({ messagesSent: 4 });
    view = render(<OptInBanner />, services);
    expect(view.container.textContent).not.toContain('Get notified');
  });
});
