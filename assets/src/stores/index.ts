/**
 * The app store: one Zustand store composed of slices. Each slice keeps its state under its
 * own key, changes it only through a pure reducer, and exports selectors; components read
 * with `useAppState(selector)` (features/services.ts) so they re-render only when their
 * slice of state changes. The tab's one store is made in app/store.ts.
 *
 * Chat slices: conversations (list, typing, presence, which one is open), messages (history
 * and the outbox), receipts (members' pointers), drafts, uploads (images being attached),
 * connection (the gateway socket), calls (the 1-on-1 call this device is in), rooms (the
 * group calls of the user's conversations, and this device's place in one).
 */
import { create } from 'zustand';
import { createCallsSlice, type CallsSlice } from './calls/slice';
import { createConnectionSlice, type ConnectionSlice } from './connection/slice';
import { createConversationsSlice, type ConversationsSlice } from './conversations/slice';
import { createDraftsSlice, type DraftsSlice } from './drafts/slice';
import { defaultDraftStorage, type DraftStorage } from './drafts/storage';
import { createMessagesSlice, type MessagesSlice } from './messages/slice';
import { createReceiptsSlice, type ReceiptsSlice } from './receipts/slice';
import { createNotificationsSlice, type NotificationsSlice } from './notifications/slice';
import { createRoomsSlice, type RoomsSlice } from './rooms/slice';
import { createServerSlice, type ServerSlice } from './server/slice';
import { createSessionSlice, type SessionSlice } from './session/slice';
import { createUploadsSlice, type UploadsSlice } from './uploads/slice';

export type AppState = SessionSlice &
  ServerSlice &
  ConnectionSlice &
  ConversationsSlice &
  MessagesSlice &
  ReceiptsSlice &
  DraftsSlice &
  UploadsSlice &
  CallsSlice &
  RoomsSlice &
  NotificationsSlice & {
    /** Forgets all chat state (sign-out): every chat slice back to its initial state. */
    chatReset(): void;
  };

export interface AppStoreOptions {
  now?: () => number;
  draftStorage?: () => DraftStorage | null;
}

export const createAppStore = (options: AppStoreOptions = {}) =>
  create<AppState>()((...a) => ({
    ...createSessionSlice<AppState>()(...a),
    ...createServerSlice<AppState>()(...a),
    ...createConnectionSlice<AppState>()(...a),
    ...createConversationsSlice<AppState>(options.now)(...a),
    ...createMessagesSlice<AppState>()(...a),
    ...createReceiptsSlice<AppState>()(...a),
    ...createDraftsSlice<AppState>(options.draftStorage ?? defaultDraftStorage)(...a),
    ...createUploadsSlice<AppState>()(...a),
    ...createCallsSlice<AppState>(options.now)(...a),
    ...createRoomsSlice<AppState>()(...a),
    ...createNotificationsSlice<AppState>()(...a),
    chatReset: () => {
      const s = a[1]();
      s.connectionReset();
      s.conversationsReset();
      s.messagesReset();
      s.receiptsReset();
      s.draftsReset();
      s.uploadsReset();
      s.callsReset();
      s.roomsReset();
      s.notificationsReset();
    },
  }));

export type AppStore = ReturnType<typeof createAppStore>;

export { sessionSelectors } from './session/selectors';
export { serverSelectors } from './server/selectors';
export { notificationsSelectors } from './notifications/selectors';
export type { DeviceNotifications, NotificationsState, OptInCounters } from './notifications/reducer';
export { connectionSelectors } from './connection/selectors';
export {
  conversationsSelectors,
  conversationTitle,
  matchesFilter,
  otherMember,
  typingLabel,
} from './conversations/selectors';
export { messagesSelectors } from './messages/selectors';
export { receiptsSelectors, seenBy, seenByLabel, tickState, type TickState } from './receipts/selectors';
export { draftsSelectors } from './drafts/selectors';
export { fraction, uploadsSelectors } from './uploads/selectors';
export type { Upload, UploadStatus } from './uploads/reducer';
export { callsSelectors, callStatusText, endReasonLabel, formatCallDuration, callStartedAt } from './calls/selectors';
export type { CallPhase, CallRole, CallsState, CurrentCall, ElsewhereCall } from './calls/reducer';
export { roomsSelectors, leftReasonText } from './rooms/selectors';
export { pickActiveSpeaker } from './rooms/reducer';
export type { LiveRoom, Participant, RoomMedia, RoomPhase, RoomSession, RoomsState } from './rooms/reducer';
export type { ChatAttachment, ChatMessage, JumpRequest, Thread } from './messages/reducer';
export type { ChangeKind, ChangeOp } from './messages/changes';
export type { ConversationImage } from './messages/selectors';
export type { ConnectionStatus } from './connection/reducer';
