/**
 * The notification entries of the menus: this device's notifications, do-not-disturb and
 * hidden content in the account menu; mute choices in a conversation's menu.
 */
import { Bell, BellOff, EyeOff, Moon } from 'lucide-react';
import { notificationsSelectors } from '../../stores';
import type { MenuItem } from '../../ui';
import { useAppState, useServices } from '../services';
import { muteConversation, setDoNotDisturb, setHideContent, unmuteConversation } from './actions';
import { IN_PAGE_ONLY } from './device';
import { dndActive, isMuted, MUTE_CHOICES, untilLabel } from './rules';

const icon = 'size-4';

/** Account menu: notifications on this device, Do not disturb, Hide message content. */
export function useNotificationSettingsItems(now = Date.now()): MenuItem[] {
  const services = useServices();
  const n = useAppState(notificationsSelectors.state);
  if (n.device === 'unknown') return [];
  const dnd = dndActive(n.dndUntil, now);
  const on = n.device === 'push' || n.device === 'in-page';
  const device: MenuItem =
    n.device === 'unsupported'
      ? {
          id: 'notify-device',
          label: 'Notifications',
          description: 'This browser cannot show notifications',
          icon: <BellOff className={icon} aria-hidden />,
          separated: true,
          onSelect: () => undefined,
        }
      : {
          id: 'notify-device',
          label: 'Notifications on this device',
          description: n.device === 'push' ? 'Also when Nexus is closed' : n.device === 'in-page' ? IN_PAGE_ONLY : 'Off',
          icon: <Bell className={icon} aria-hidden />,
          checked: on,
          separated: true,
          onSelect: () => void (on ? services.notifications.disable() : services.notifications.enable()),
        };
  return [
    device,
    {
      id: 'notify-dnd',
      label: 'Do not disturb',
      description: dnd ? `On ${untilLabel(n.dndUntil, now)}` : 'Silence notifications until 08:00',
      icon: <Moon className={icon} aria-hidden />,
      checked: dnd,
      onSelect: () => void setDoNotDisturb(services, !dnd),
    },
    {
      id: 'notify-hide',
      label: 'Hide message content',
      description: n.hideContent ? 'Notifications say “New message”' : 'Notifications show who and what',
      icon: <EyeOff className={icon} aria-hidden />,
      checked: n.hideContent,
      onSelect: () => void setHideContent(services, !n.hideContent),
    },
  ];
}

/** Conversation menu: mute for a while or until unmuted, or unmute. */
export function useMuteItems(conversationId: string, now = Date.now()): MenuItem[] {
  const services = useServices();
  const mutes = useAppState(notificationsSelectors.mutes);
  if (isMuted(mutes, conversationId, now)) {
    return [
      {
        id: 'unmute',
        label: 'Unmute',
        description: `Muted ${untilLabel(mutes[conversationId] ?? null, now)}`,
        icon: <Bell className={icon} aria-hidden />,
        separated: true,
        onSelect: () => void unmuteConversation(services, conversationId),
      },
    ];
  }
  return MUTE_CHOICES.map(({ choice, label }, i) => ({
    id: `mute-${choice}`,
    label,
    ...(i === 0 ? { description: 'No notifications from this conversation' } : {}),
    icon: <BellOff className={icon} aria-hidden />,
    separated: i === 0,
    onSelect: () => void muteConversation(services, conversationId, choice),
  }));
}
