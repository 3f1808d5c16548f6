import { isMuted, type NotificationsState } from './reducer';

interface WithNotifications {
  notifications: NotificationsState;
}

export const notificationsSelectors = {
  state: (s: WithNotifications) => s.notifications,
  mutes: (s: WithNotifications) => s.notifications.mutes,
  muteOf: (s: WithNotifications, conversationId: string): string | null | undefined =>
    conversationId in s.notifications.mutes ? s.notifications.mutes[conversationId] : undefined,
  isMuted: (s: WithNotifications, conversationId: string, now: number) => isMuted(s.notifications.mutes, conversationId, now),
  device: (s: WithNotifications) => s.notifications.device,
  /** This device notifies (push, or in-page while a tab is open). */
  enabled: (s: WithNotifications) => s.notifications.device === 'push' || s.notifications.device === 'in-page',
};
