/**
 * Mutes, do-not-disturb and hidden content as the menus drive them: each calls the API,
 * then puts the server's answer in the store (nothing optimistic: a failure says so and
 * changes nothing).
 */
import { toast } from 'sonner';
import { describeError } from '../../api';
import type { AppServices } from '../services';
import { muteUntil, nextMorning, type MuteChoice } from './rules';

export type NotificationServices = Pick<AppServices, 'api' | 'store'>;

function failed(what: string, err: unknown): void {
  toast.error(what, { description: describeError(err) });
}

export async function muteConversation(s: NotificationServices, conversationId: string, choice: MuteChoice, now = Date.now()): Promise<void> {
  try {
    const mute = await s.api.notifications.mute(conversationId, muteUntil(choice, now));
    s.store.getState().notificationsMuted(conversationId, mute?.until ?? muteUntil(choice, now));
  } catch (err) {
    failed('Could not mute the conversation', err);
  }
}

export async function unmuteConversation(s: NotificationServices, conversationId: string): Promise<void> {
  try {
    await s.api.notifications.unmute(conversationId);
    s.store.getState().notificationsUnmuted(conversationId);
  } catch (err) {
    failed('Could not unmute the conversation', err);
  }
}

/** Do not disturb until the next 08:00, or off (null). */
export async function setDoNotDisturb(s: NotificationServices, on: boolean, now = Date.now()): Promise<void> {
  try {
    const settings = await s.api.notifications.updateSettings({ dnd_until: on ? nextMorning(now) : null });
    s.store.getState().notificationsLoaded(settings);
  } catch (err) {
    failed('Could not change Do not disturb', err);
  }
}

export async function setHideContent(s: NotificationServices, hide: boolean): Promise<void> {
  try {
    const settings = await s.api.notifications.updateSettings({ hide_content: hide });
    s.store.getState().notificationsLoaded(settings);
  } catch (err) {
    failed('Could not change the notification settings', err);
  }
}
