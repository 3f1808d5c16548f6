import { describe, expect, it, vi } from 'vitest';
import { routeClick, safePath, windowInFront, type ClientsLike, type WindowLike } from './click';

const ORIGIN = 'https://chat.example';

function win(url: string, state: Partial<Pick<WindowLike, 'focused' | 'visibilityState'>> = {}) {
  return { url, focused: false, visibilityState: 'hidden' as DocumentVisibilityState, ...state, focus: vi.fn().mockResolvedValue(undefined), postMessage: vi.fn() };
}

function clientsWith(windows: ReturnType<typeof win>[]) {
  return { matchAll: vi.fn().mockResolvedValue(windows), openWindow: vi.fn().mockResolvedValue(null) } satisfies ClientsLike;
}

const data = { url: '/?c=c-1', conversationId: 'c-1' };

describe('routeClick', () => {
  it('an open Nexus window is focused and told to open the conversation; no new window', async () => {
    const w = win(`${ORIGIN}/?c=other`);
    const clients = clientsWith([w]);
    await expect(routeClick(data, clients, ORIGIN)).resolves.toBe('focused');
    expect(w.postMessage).toHaveBeenCalledWith({ type: 'nexus:open', conversationId: 'c-1', url: '/?c=c-1' });
    expect(w.focus).toHaveBeenCalled();
    expect(clients.openWindow).not.toHaveBeenCalled();
    expect(clients.matchAll).toHaveBeenCalledWith({ type: 'window', includeUncontrolled: true });
  });

  it('prefers the focused window, then a visible one', async () => {
    const background = win(`${ORIGIN}/`);
    const visible = win(`${ORIGIN}/`, { visibilityState: 'visible' });
    const focused = win(`${ORIGIN}/`, { focused: true, visibilityState: 'visible' });
    await routeClick(data, clientsWith([background, visible, focused]), ORIGIN);
    expect(focused.postMessage).toHaveBeenCalled();
    expect(visible.postMessage).not.toHaveBeenCalled();
    await routeClick(data, clientsWith([background, visible]), ORIGIN);
    expect(visible.postMessage).toHaveBeenCalled();
    expect(background.postMessage).not.toHaveBeenCalled();
  });

  it('with no window of this origin, opens one at the conversation', async () => {
    const foreign = win('https://elsewhere.example/');
    const clients = clientsWith([foreign]);
    await expect(routeClick(data, clients, ORIGIN)).resolves.toBe('opened');
    expect(clients.openWindow).toHaveBeenCalledWith('/?c=c-1');
    expect(foreign.postMessage).not.toHaveBeenCalled();
  });

  it('a URL of another origin or none opens the app’s start', async () => {
    const clients = clientsWith([]);
    await routeClick({ url: 'https://evil.example/?c=1', conversationId: '1' }, clients, ORIGIN);
    expect(clients.openWindow).toHaveBeenLastCalledWith('/');
    await routeClick(undefined, clients, ORIGIN);
    expect(clients.openWindow).toHaveBeenLastCalledWith('/');
  });
});

describe('windowInFront', () => {
  it('true only for a focused, visible window of this origin', async () => {
    expect(await windowInFront(clientsWith([win(`${ORIGIN}/`, { focused: true, visibilityState: 'visible' })]), ORIGIN)).toBe(true);
    expect(await windowInFront(clientsWith([win(`${ORIGIN}/`, { visibilityState: 'visible' })]), ORIGIN)).toBe(false);
    expect(await windowInFront(clientsWith([win(`${ORIGIN}/`, { focused: true })]), ORIGIN)).toBe(false);
    expect(await windowInFront(clientsWith([win('https://x.example/', { focused: true, visibilityState: 'visible' })]), ORIGIN)).toBe(false);
    expect(await windowInFront(clientsWith([]), ORIGIN)).toBe(false);
    expect(await windowInFront(clientsWith([win(`${ORIGIN}/api/v1/server`, { focused: true, visibilityState: 'visible' })]), ORIGIN)).toBe(false);
  });
});

describe('safePath', () => {
  it('keeps same-origin paths with their query', () => {
    expect(safePath('/?c=x', ORIGIN)).toBe('/?c=x');
    expect(safePath(`${ORIGIN}/?c=x#m`, ORIGIN)).toBe('/?c=x#m');
    expect(safePath('//evil.example/', ORIGIN)).toBe('/');
    expect(safePath(42, ORIGIN)).toBe('/');
  });
});
