// @vitest-environment happy-dom
/**
 * The admin page's pieces rendered alone with a fake admin API: the accounts list and its
 * actions, invites (create with a note, the link shown once, who used which, revoke), the
 * server panel and its message rate, and the account menu's entry for administrators only.
 */
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdminUser, CreatedInvite, Invite, NexusApi, ServerOverview } from '../../api';
import { ME } from '../../test/fixtures';
import { click, fakeServices, render, type FakeServices, type Rendered } from '../../test/services';
import { UserCard } from '../shell/UserCard';
import { InvitesPanel } from './InvitesPanel';
import { ServerPanel, SERVER_SAMPLE_MS } from './ServerPanel';
import { UsersPanel } from './UsersPanel';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
  vi.useRealTimers();
});

const flush = () => act(async () => {
  await new Promise((r) => setTimeout(r, 0));
});

const account = (over: Partial<AdminUser> = {}): AdminUser => ({
  id: 'u-bob',
  username: 'bob',
  display_name: 'Bob',
  is_admin: false,
  created_at: '2024-01-01T00:00:00Z',
  disabled_at: null,
  ...over,
});

const invite = (over: Partial<Invite> = {}): Invite => ({
  id: 'i1',
  note: 'for Dana',
  created_by: null,
  created_at: '2024-01-01T00:00:00Z',
  expires_at: '2030-01-01T00:00:00Z',
  used_at: null,
  used_by: null,
  revoked_at: null,
  state: 'active',
  ...over,
});

function withAdmin(services: FakeServices, admin: Record<string, unknown>): FakeServices {
  services.api = { admin } as unknown as NexusApi;
  return services;
}

function type(input: HTMLInputElement, value: string) {
  act(() => {
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

describe('UsersPanel', () => {
  it('lists accounts with their flags and disables one', async () => {
    const users = vi.fn().mockResolvedValue([account({ id: ME.id, username: ME.username, is_admin: true }), account()]);
    const updateUser = vi.fn().mockResolvedValue(account({ disabled_at: '2024-02-02T00:00:00Z' }));
    const services = withAdmin(fakeServices(), { users, updateUser });
    view = render(<UsersPanel />, services);
    await flush();
    expect(users).toHaveBeenCalledWith('', expect.anything());
    const me = view.container.querySelector(`[data-testid="admin-user-${ME.username}"]`)!;
    expect(me.textContent).toContain('(you)');
    expect(me.textContent).toContain('Admin');
    click(view.button('Disable bob'));
    await flush();
    expect(updateUser).toHaveBeenCalledWith('u-bob', { disabled: true });
    const bob = view.container.querySelector('[data-testid="admin-user-bob"]')!;
    expect(bob.textContent).toContain('Disabled');
    expect(view.button('Enable bob')).toBeTruthy();
  });

  it('makes an admin, and searches', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const users = vi.fn().mockResolvedValue([account()]);
    const updateUser = vi.fn().mockResolvedValue(account({ is_admin: true }));
    const services = withAdmin(fakeServices(), { users, updateUser });
    view = render(<UsersPanel />, services);
    await flush();
    click(view.button('Make admin bob'));
    await flush();
    expect(updateUser).toHaveBeenCalledWith('u-bob', { is_admin: true });
    expect(view.button('Remove admin bob')).toBeTruthy();
    type(view.container.querySelector('input[type="search"]')!, 'bo');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(300);
    });
    expect(users).toHaveBeenLastCalledWith('bo', expect.anything());
  });
});

describe('InvitesPanel', () => {
  it('creates an invite with a note, shows its link once, and lists who used which', async () => {
    const created: CreatedInvite = { code: 'CODE1', path: '/invite/CODE1', invite: invite() };
    const used = invite({ id: 'i0', note: 'for Carl', state: 'used', used_at: '2024-01-02T00:00:00Z', used_by: { ...ME, id: 'u-carl', username: 'carl' } });
    const invites = vi.fn().mockResolvedValueOnce([used]).mockResolvedValue([invite(), used]);
    const createInvite = vi.fn().mockResolvedValue(created);
    const revokeInvite = vi.fn().mockResolvedValue(undefined);
    const services = withAdmin(fakeServices(), { invites, createInvite, revokeInvite });
    view = render(<InvitesPanel origin="https://chat.example" />, services);
    await flush();
    expect(view.container.querySelector('[data-testid="invite-used-by"]')?.textContent).toContain('@carl');
    type(view.container.querySelector<HTMLInputElement>('input:not([type])')!, '  for Dana ');
    act(() => {
      view!.container.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
    expect(createInvite).toHaveBeenCalledWith({ note: 'for Dana', expires_in_hours: 168 });
    const link = view.container.querySelector<HTMLInputElement>('input[aria-label="Invite link"]')!;
    expect(link.value).toBe('https://chat.example/invite/CODE1');
    expect(view.container.querySelectorAll('[data-testid="admin-invite"]')).toHaveLength(2);
    click(view.button('Revoke invite for Dana'));
    await flush();
    expect(revokeInvite).toHaveBeenCalledWith('i1');
  });

  it('refuses an over-long note before asking the server', async () => {
    const createInvite = vi.fn();
    const services = withAdmin(fakeServices(), { invites: vi.fn().mockResolvedValue([]), createInvite });
    view = render(<InvitesPanel origin="https://x" />, services);
    await flush();
    type(view.container.querySelector<HTMLInputElement>('input:not([type])')!, 'x'.repeat(201));
    expect(view.container.textContent).toContain('At most 200 characters');
    expect(view.container.querySelector<HTMLButtonElement>('button[type="submit"]')!.disabled).toBe(true);
    expect(createInvite).not.toHaveBeenCalled();
  });
});

describe('ServerPanel', () => {
  const sample = (accepted: number, at: number): ServerOverview => ({
    name: 'Home',
    version: '0.1.0',
    registration: 'invite',
    uptime_secs: 3720,
    users: 3,
    disabled_users: 1,
    storage: { database_bytes: 2 * 1024 * 1024, media_bytes: 1536 },
    connections: 4,
    connected_users: 2,
    messages_accepted_total: accepted,
    messages_stored_total: accepted,
    messages_per_sec_since_start: 0.5,
    sampled_at_ms: at,
  });

  it('shows the figures, and the message rate from two samples', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const server = vi.fn().mockResolvedValueOnce(sample(100, 1_000)).mockResolvedValue(sample(150, 6_000));
    const services = withAdmin(fakeServices(), { server });
    view = render(<ServerPanel />, services);
    await flush();
    const text = (id: string) => view!.container.querySelector(`[data-testid="server-${id}"]`)?.textContent;
    expect(text('registration')).toBe('Invite only');
    expect(text('uptime')).toBe('1 h 2 min');
    expect(text('accounts')).toBe('3 (1 disabled)');
    expect(text('database')).toBe('2.0 MB');
    expect(text('media')).toBe('1.5 KB');
    expect(text('connected-users')).toBe('2 (4 sockets)');
    expect(text('message-rate')).toBe('—');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SERVER_SAMPLE_MS);
    });
    expect(text('message-rate')).toBe('10 msg/s');
  });
});

describe('the account menu', () => {
  const openMenu = (v: Rendered) => click(v.button('Account menu'));

  it('offers Administration to administrators', () => {
    const services = fakeServices();
    services.store.getState().sessionAuthenticated({ user: { ...ME, is_admin: true }, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    const onOpenAdmin = vi.fn();
    view = render(<UserCard onOpenAdmin={onOpenAdmin} />, services);
    openMenu(view);
    const item = [...document.querySelectorAll('[role="menuitem"]')].find((el) => el.textContent?.includes('Administration'));
    expect(item).toBeTruthy();
    click(item!);
    expect(onOpenAdmin).toHaveBeenCalled();
  });

  it('has no admin entry for anyone else', () => {
    const services = fakeServices();
    services.store.getState().sessionAuthenticated({ user: { ...ME, is_admin: false }, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    view = render(<UserCard onOpenAdmin={vi.fn()} />, services);
    openMenu(view);
    expect(document.body.textContent).not.toContain('Administration');
    expect(document.body.textContent).toContain('Sign out');
  });
});
