/**
 * Web push and notification settings (`/api/v1/push/*`, `/api/v1/notifications/*`,
 * docs/protocol.md): the server's VAPID key, this device's subscription, mutes and
 * do-not-disturb.
 */
import type { HttpClient } from './http';

export interface PushKey {
  enabled: boolean;
  /** base64url, unpadded: an uncompressed P-256 point (65 bytes). */
  public_key: string | null;
}

/** Exactly `PushSubscription.toJSON()`. */
export interface PushSubscriptionBody {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

export interface ConversationMute {
  conversation_id: string;
  /** RFC 3339; null = muted until unmuted. */
  until: string | null;
}

export interface NotificationSettings {
  hide_content: boolean;
  /** RFC 3339; null = off. */
  dnd_until: string | null;
  mutes: ConversationMute[];
}

export interface NotificationSettingsPatch {
  hide_content?: boolean;
  dnd_until?: string | null;
}

const enc = encodeURIComponent;

export function createNotificationsApi(http: HttpClient) {
  return {
    pushKey: () => http.request<PushKey>('/push/key'),
    subscribe: (body: PushSubscriptionBody) =>
      http.request<{ id: string }>('/push/subscriptions', { method: 'POST', body }),
    unsubscribe: (endpoint: string) =>
      http.request<void>('/push/subscriptions', { method: 'DELETE', body: { endpoint } }),
    settings: () => http.request<NotificationSettings>('/notifications/settings'),
    updateSettings: (patch: NotificationSettingsPatch) =>
      http.request<NotificationSettings>('/notifications/settings', { method: 'PATCH', body: patch }),
    mute: (conversationId: string, until: string | null) =>
      http.request<ConversationMute>(`/notifications/mutes/${enc(conversationId)}`, { method: 'PUT', body: { until } }),
    unmute: (conversationId: string) =>
      http.request<void>(`/notifications/mutes/${enc(conversationId)}`, { method: 'DELETE' }),
  };
}

export type NotificationsApi = ReturnType<typeof createNotificationsApi>;
