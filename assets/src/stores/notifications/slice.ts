import type { StateCreator } from 'zustand';
import type { NotificationSettings } from '../../api/notifications';
import {
  initialNotificationsState,
  notificationsReducer,
  type DeviceNotifications,
  type OptInCounters,
  type NotificationsAction,
  type NotificationsState,
} from './reducer';

export interface NotificationsSlice {
  notifications: NotificationsState;
  notificationsLoaded(settings: NotificationSettings): void;
  notificationsMuted(conversationId: string, until: string | null): void;
  notificationsUnmuted(conversationId: string): void;
  notificationsDevice(device: DeviceNotifications): void;
  notificationsBusy(busy: boolean): void;
  notificationsOptIn(optIn: Partial<OptInCounters>): void;
  notificationsReset(): void;
}

export const createNotificationsSlice =
  <S extends NotificationsSlice>(): StateCreator<S, [], [], NotificationsSlice> =>
  (set) => {
    const dispatch = (action: NotificationsAction) =>
      set((s) => {
        const next = notificationsReducer(s.notifications, action);
        return (next === s.notifications ? s : { notifications: next }) as Partial<S>;
      });
    return {
      notifications: initialNotificationsState,
      notificationsLoaded: (settings) => dispatch({ type: 'loaded', settings }),
      notificationsMuted: (conversationId, until) => dispatch({ type: 'muted', conversationId, until }),
      notificationsUnmuted: (conversationId) => dispatch({ type: 'unmuted', conversationId }),
      notificationsDevice: (device) => dispatch({ type: 'device', device }),
      notificationsBusy: (busy) => dispatch({ type: 'busy', busy }),
      notificationsOptIn: (optIn) => dispatch({ type: 'optIn', optIn }),
      notificationsReset: () => dispatch({ type: 'reset' }),
    };
  };
