import type { Conversation } from '../../api';
import { Avatar, Dialog, PresenceDot } from '../../ui';
import { lastSeenLabel } from './format';
import { useAppState } from '../services';

/** A group's members, with who is online and who runs it. */
export default function MembersDialog({ conversation: c, onClose }: { conversation: Conversation; onClose(): void }) {
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const presence = useAppState((s) => s.conversations.presence);
  const members = [...c.members].sort((a, b) => (a.user.id === myId ? -1 : b.user.id === myId ? 1 : a.user.display_name.localeCompare(b.user.display_name)));
  return (
    <Dialog title={c.name ?? 'Members'} description={`${c.members.length} members`} onClose={onClose}>
      <ul role="list" aria-label="Members" className="-mx-2 flex min-h-0 flex-col gap-0.5 overflow-y-auto">
        {members.map(({ user, role }) => {
          const p = user.id === myId ? { online: true, last_seen: null } : presence[user.id];
          const online = p?.online === true;
          return (
            <li key={user.id} className="flex items-center gap-3 rounded-2xl p-2">
              <span className="relative">
                <Avatar name={user.display_name} seed={user.id} />
                <PresenceDot online={online} />
              </span>
              <span className="min-w-0 flex-1">
                <span className="block truncate text-sm font-semibold text-slate-900 dark:text-white">
                  {user.display_name}
                  {user.id === myId && <span className="font-normal text-slate-500 dark:text-slate-400"> (you)</span>}
                </span>
                <span className="block truncate text-xs text-slate-500 dark:text-slate-400">
                  @{user.username} · {online ? 'online' : p ? lastSeenLabel(p.last_seen).toLowerCase() : 'offline'}
                </span>
              </span>
              {role === 'admin' && (
                <span className="rounded-full bg-accent-500/10 px-2 py-0.5 text-[11px] font-semibold text-accent-700 dark:text-accent-300">
                  Admin
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </Dialog>
  );
}
