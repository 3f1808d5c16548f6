/**
 * What the features are given, instead of importing the app's singletons: the store, the
 * typed API, the session and tab plumbing, the gateway, the upload queue, the call and
 * room controllers and navigation. app/ builds one `AppServices` and puts it in `ServicesProvider` at the root;
 * a component reads it with `useServices()` and the store with `useAppState(selector)`.
 * So nothing under features/ imports app/, and a test renders a component alone inside a
 * provider with fakes (src/test/services.ts).
 */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AuthResponse, NexusApi } from '../api';
import type { ChangeSync } from '../gateway/changes';
import type { GatewayClient } from '../gateway/client';
import type { AppState, AppStore } from '../stores';
import type { UploadQueue } from './attachments/queue';
import type { CallController } from './calls/controller';
import type { RoomController } from './rooms/controller';

/** The gateway as the chat uses it: send, type, page, mark read, leave. */
export type ChatGateway = Pick<
  GatewayClient,
  'send' | 'retry' | 'discard' | 'attachmentUploaded' | 'attachmentFailed' | 'typingActivity' | 'typingStop' | 'loadLatest' | 'loadOlder' | 'markRead' | 'forgetConversation'
>;

/** Message changes as the chat makes them (each promise rejects with a ChangeError), and jumps. */
export type ChangeActions = Pick<ChangeSync, 'edit' | 'remove' | 'react' | 'pin' | 'loadAround' | 'loadHole'>;

/** The upload queue as the composer uses it: attach, remove (cancel), send. */
export type UploadActions = Pick<UploadQueue, 'add' | 'remove' | 'send'>;

/** The call controller as the call screens use it. */
export type CallActions = Pick<CallController, 'startCall' | 'accept' | 'decline' | 'hangUp' | 'toggleMic' | 'toggleCamera' | 'subscribe' | 'getMedia'>;

/** The room controller as the group call screens use it. */
export type RoomActions = Pick<
  RoomController,
  'canJoin' | 'join' | 'leave' | 'toggleMic' | 'toggleCamera' | 'toggleScreenShare' | 'canShareScreen' | 'listDevices' | 'switchDevice' | 'setTileSize' | 'subscribe' | 'getMedia'
>;

/** This device's notifications (features/notifications/device.ts). */
export interface NotificationDevice {
  enable(): Promise<unknown>;
  disable(): Promise<void>;
  /** Before a sign-out: the server forgets this device's subscription. */
  signingOut(): Promise<void>;
  /** The opt-in banner closed for good. */
  dismissOptIn(): void;
}

/** What other tabs of this origin are told, so they follow a sign-in or sign-out. */
export type TabMessage = { type: 'signed-in' } | { type: 'signed-out' };

export interface AppServices {
  store: AppStore;
  api: NexusApi;
  /** The HTTP client's session: adopt a fresh sign-in (tokens, refresh schedule) or forget it. */
  session: { start(auth: AuthResponse): void; end(): void };
  /** Tells the other tabs. */
  announce(message: TabMessage): void;
  gateway: ChatGateway;
  changes: ChangeActions;
  uploads: UploadActions;
  calls: CallActions;
  rooms: RoomActions;
  notifications: NotificationDevice;
  /** Opens a conversation (or the list, with null); `back` is the chat's back button. */
  navigation: { open(conversationId: string | null): void; back(): void };
}

const ServicesContext = createContext<AppServices | null>(null);

export const ServicesProvider = ServicesContext.Provider;

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices: no ServicesProvider above this component');
  return services;
}

/** Reads the store with a selector, re-rendering only when the selected value changes. */
export function useAppState<T>(selector: (state: AppState) => T): T {
  return useStore(useServices().store, selector);
}
