/**
 * Test-only: the services a feature component is given (features/services.ts), as fakes
 * around a fresh store, and a tiny renderer for component tests. Every fake method is a
 * `vi.fn()`, so a test can check what the component asked for.
 */
import { act, createElement, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { vi } from 'vitest';
import type { NexusApi } from '../api';
import type { AppServices, CallActions, ChangeActions, ChatGateway, NotificationDevice, RoomActions, UploadActions } from '../features/services';
import { NO_ROOM_MEDIA } from '../features/rooms/mediaView';
import { ServicesProvider } from '../features/services';
import { createAppStore } from '../stores';
import { ME } from './fixtures';

export interface FakeServices extends AppServices {
  gateway: { [K in keyof ChatGateway]: ReturnType<typeof vi.fn> & ChatGateway[K] };
  changes: { [K in keyof ChangeActions]: ReturnType<typeof vi.fn> & ChangeActions[K] };
  uploads: { [K in keyof UploadActions]: ReturnType<typeof vi.fn> & UploadActions[K] };
  calls: { [K in keyof CallActions]: ReturnType<typeof vi.fn> & CallActions[K] };
  rooms: { [K in keyof RoomActions]: ReturnType<typeof vi.fn> & RoomActions[K] };
  notifications: { [K in keyof NotificationDevice]: ReturnType<typeof vi.fn> & NotificationDevice[K] };
  navigation: { open: ReturnType<typeof vi.fn> & AppServices['navigation']['open']; back: ReturnType<typeof vi.fn> & (() => void) };
}

/** Fakes of every service around a fresh store in which ME is signed in and the socket is open. */
export function fakeServices(): FakeServices {
  const store = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
  store.getState().connectionChanged('open');
  const fn = <T,>() => vi.fn() as ReturnType<typeof vi.fn> & T;
  return {
    store,
    // Each test stubs the endpoints it needs; an unexpected call fails loudly.
    api: new Proxy({} as NexusApi, {
      get: (_, area) => {
        throw new Error(`fakeServices: api.${String(area)} was not stubbed`);
      },
    }),
    session: { start: vi.fn(), end: vi.fn() },
    announce: vi.fn(),
    gateway: {
      send: fn(),
      retry: fn(),
      discard: fn(),
      attachmentUploaded: fn(),
      attachmentFailed: fn(),
      typingActivity: fn(),
      typingStop: fn(),
      loadLatest: fn(),
      loadOlder: fn(),
      markRead: fn(),
      forgetConversation: fn(),
    },
    changes: {
      edit: fn<ChangeActions['edit']>().mockResolvedValue(undefined),
      remove: fn<ChangeActions['remove']>().mockResolvedValue(undefined),
      react: fn<ChangeActions['react']>().mockResolvedValue(undefined),
      pin: fn<ChangeActions['pin']>().mockResolvedValue(undefined),
      loadAround: fn<ChangeActions['loadAround']>().mockResolvedValue(undefined),
      loadHole: fn<ChangeActions['loadHole']>().mockResolvedValue(undefined),
    },
    uploads: { add: fn(), remove: fn(), send: fn() },
    calls: {
      startCall: fn(),
      accept: fn(),
      decline: fn(),
      hangUp: fn(),
      toggleMic: fn(),
      toggleCamera: fn(),
      subscribe: fn<CallActions['subscribe']>().mockReturnValue(() => undefined),
      getMedia: fn<CallActions['getMedia']>().mockReturnValue({ local: null, remote: null, quality: null, rttMs: null, lossPct: null }),
    },
    rooms: {
      canJoin: fn<RoomActions['canJoin']>().mockReturnValue(true),
      join: fn<RoomActions['join']>().mockReturnValue(true),
      leave: fn(),
      toggleMic: fn(),
      toggleCamera: fn(),
      toggleScreenShare: fn<RoomActions['toggleScreenShare']>().mockResolvedValue(undefined),
      canShareScreen: fn<RoomActions['canShareScreen']>().mockReturnValue(true),
      listDevices: fn<RoomActions['listDevices']>().mockResolvedValue([]),
      switchDevice: fn<RoomActions['switchDevice']>().mockResolvedValue(undefined),
      setTileSize: fn(),
      subscribe: fn<RoomActions['subscribe']>().mockReturnValue(() => undefined),
      getMedia: fn<RoomActions['getMedia']>().mockReturnValue(NO_ROOM_MEDIA),
    },
    notifications: {
      enable: fn<NotificationDevice['enable']>().mockResolvedValue('push'),
      disable: fn<NotificationDevice['disable']>().mockResolvedValue(undefined),
      signingOut: fn<NotificationDevice['signingOut']>().mockResolvedValue(undefined),
      dismissOptIn: fn(),
    },
    navigation: { open: fn(), back: fn() },
  };
}

export interface Rendered {
  container: HTMLElement;
  /** The button with this accessible label (aria-label). */
  button(label: string): HTMLButtonElement;
  unmount(): void;
}

/** Renders `node` alone in a ServicesProvider with `services` (needs a DOM environment). */
export function render(node: ReactNode, services: AppServices): Rendered {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
  const container = document.createElement('div');
  document.body.append(container);
  let root!: Root;
  act(() => {
    root = createRoot(container);
    root.render(createElement(ServicesProvider, { value: services }, node));
  });
  return {
    container,
    button(label) {
      const el = container.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`);
      if (!el) throw new Error(`no button labelled ${label}`);
      return el;
    },
    unmount() {
      act(() => root.unmount());
      container.remove();
    },
  };
}

/** A click as the user makes it, inside act() so React has re-rendered afterwards. */
export function click(el: Element): void {
  act(() => {
    el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 }));
  });
}
