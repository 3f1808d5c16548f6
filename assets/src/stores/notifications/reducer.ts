/**
 * Notifications slice: the user's settings from the server (mutes, do-not-disturb, hidden
 * content) and this device's state (push subscription, in-page only, off).
 */
import type { NotificationSettings } from '../../api/notifications';

/**
 * This device: `push` subscribed (notified with the tab closed); `in-page` no push service
 * here, notified while a tab is open; `off`; `unsupported` no notifications in this browser.
 */
export type DeviceNotifications = 'unknown' | 'unsupported' | 'off' | 'push' | 'in-page';

export interface NotificationsState {
  loaded: boolean;
  hideContent: boolean;
  dndUntil: string | null;
  /** conversation id → until (null = until unmuted). */
  mutes: Record<string, string | null>;
  device: DeviceNotifications;
  /** An enable/disable is under way. */
  busy: boolean;
  /** For the opt-in banner (kept on this browser). */
  optIn: OptInCounters;
}

export interface OptInCounters {
  messagesSent: number;
  conversationsOpened: number;
  dismissed: boolean;
}

/** Muted now: `until` null (until unmuted) or later than `now`. */
export function isMuted(mutes: Record<string, string | null>, conversationId: string, now: number): boolean {
  if (!(conversationId in mutes)) return false;
  const until = mutes[conversationId];
  return until === null || until === undefined || Date.parse(until) > now;
}

export function dndActive(dndUntil: string | null, now: number): boolean {
  return dndUntil !== null && Date.parse(dndUntil) > now;
}

export const initialNotificationsState: NotificationsState = {
  loaded: false,
  hideContent: false,
  dndUntil: null,
  mutes: {},
  device: 'unknown',
  busy: false,
  optIn: { messagesSent: 0, conversationsOpened: 0, dismissed: false },
};

export type NotificationsAction =
  | { type: 'loaded'; settings: NotificationSettings }
  | { type: 'muted'; conversationId: string; until: string | null }
  | { type: 'unmuted'; conversationId: string }
  | { type: 'device'; device: DeviceNotifications }
  | { type: 'busy'; busy: boolean }
  | { type: 'optIn'; optIn: Partial<OptInCounters> }
  | { type: 'reset' };

export function notificationsReducer(state: NotificationsState, action: NotificationsAction): NotificationsState {
  switch (action.type) {
    case 'loaded': {
      const mutes: Record<string, string | null> = {};
      for (const m of action.settings.mutes ?? []) mutes[m.conversation_id] = m.until ?? null;
      return { ...state, loaded: true, hideContent: !!action.settings.hide_content, dndUntil: action.settings.dnd_until ?? null, mutes };
    }
    case 'muted':
      return { ...state, mutes: { ...state.mutes, [action.conversationId]: action.until } };
    case 'unmuted': {
      if (!(action.conversationId in state.mutes)) return state;
      const mutes = { ...state.mutes };
      delete mutes[action.conversationId];
      return { ...state, mutes };
    }
    case 'device':
      return state.device === action.device ? state : { ...state, device: action.device };
    case 'busy':
      return state.busy === action.busy ? state : { ...state, busy: action.busy };
    case 'optIn':
      return { ...state, optIn: { ...state.optIn, ...action.optIn } };
    case 'reset':
      // The device's state and the banner's counters are the browser's, not the account's: they stay.
      return { ...initialNotificationsState, device: state.device, optIn: state.optIn };
  }
}
