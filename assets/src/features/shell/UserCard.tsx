import { ChevronsUpDown, LogOut, MonitorSmartphone, ShieldCheck } from 'lucide-react';
import { sessionSelectors } from '../../stores';
import { Avatar, Menu, type MenuItem } from '../../ui';
import { signOut, signOutEverywhere } from '../auth/actions';
import { useNotificationSettingsItems } from '../notifications/menus';
import { useAppState, useServices } from '../services';

/** The signed-in user with the account menu (and, for administrators, the admin page). */
export function UserCard({ onOpenAdmin }: { onOpenAdmin?: () => void }) {
  const services = useServices();
  const user = useAppState(sessionSelectors.user);
  const notificationItems = useNotificationSettingsItems();
  if (!user) return null;

  const items: MenuItem[] = [
    ...(user.is_admin && onOpenAdmin
      ? [
          {
            id: 'admin',
            label: 'Administration',
            description: 'Accounts, invites, server',
            icon: <ShieldCheck className="size-4" aria-hidden />,
            onSelect: onOpenAdmin,
          },
        ]
      : []),
    ...notificationItems,
    {
      id: 'sign-out',
      separated: true,
      label: 'Sign out',
      description: 'On this device',
      icon: <LogOut className="size-4" aria-hidden />,
      onSelect: () => void signOut(services),
    },
    {
      id: 'sign-out-everywhere',
      label: 'Sign out everywhere',
      description: 'Ends your sessions on all devices',
      icon: <MonitorSmartphone className="size-4" aria-hidden />,
      tone: 'danger',
      onSelect: () => void signOutEverywhere(services),
    },
  ];

  return (
    <div className="flex items-center gap-3 rounded-2xl p-2">
      <Avatar name={user.display_name} seed={user.id} />
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-semibold text-slate-900 dark:text-white" title={user.display_name}>
          {user.display_name}
        </p>
        <p className="truncate text-xs text-slate-500 dark:text-slate-400">@{user.username}</p>
      </div>
      <Menu
        label="Account menu"
        items={items}
        placement="top"
        triggerClassName="grid size-9 place-items-center rounded-xl text-slate-500 transition-colors hover:bg-slate-900/5 hover:text-slate-900 aria-expanded:bg-slate-900/5 dark:text-slate-400 dark:hover:bg-white/10 dark:hover:text-white dark:aria-expanded:bg-white/10"
      >
        <ChevronsUpDown className="size-4" aria-hidden />
      </Menu>
    </div>
  );
}
