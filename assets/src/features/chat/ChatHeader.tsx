import { ArrowLeft, BellOff, LogOut, Pin, Search, Users } from 'lucide-react';
import { lazy, Suspense, useState } from 'react';
import type { Conversation } from '../../api';
import { conversationsSelectors, notificationsSelectors, otherMember } from '../../stores';
import { Avatar, avatarName, IconButton, Menu, PresenceDot, useMediaQuery, type MenuItem } from '../../ui';
import { CallButtons } from '../calls/CallButtons';
import { RoomButtons } from '../rooms/RoomButtons';
import { useMuteItems } from '../notifications/menus';
import { lastSeenLabel } from './format';
import { useAppState, useServices } from '../services';

const MembersDialog = lazy(() => import('./MembersDialog'));
const LeaveDialog = lazy(() => import('./LeaveDialog'));

export type ChatPanel = 'search' | 'pins';

/** Who the conversation is with: back (on a phone), avatar, name, presence or members, search, pins, and options. */
export function ChatHeader({ conversation: c, title, panel, onPanel }: { conversation: Conversation; title: string; panel?: ChatPanel | null; onPanel?(p: ChatPanel | null): void }) {
  const { navigation } = useServices();
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const wide = useMediaQuery('(min-width: 768px)');
  const other = c.kind === 'direct' ? otherMember(c, myId) : null;
  const presence = useAppState((s) => conversationsSelectors.presence(s, other?.id));
  const [dialog, setDialog] = useState<'members' | 'leave' | null>(null);
  const muteItems = useMuteItems(c.id);
  const muted = useAppState((s) => notificationsSelectors.isMuted(s, c.id, Date.now()));

  let subtitle: string;
  if (c.kind === 'group') {
    const names = c.members.map((m) => (m.user.id === myId ? 'You' : m.user.display_name));
    subtitle = `${c.members.length} members · ${names.join(', ')}`;
  } else if (presence?.online) {
    subtitle = 'Online';
  } else {
    subtitle = other ? (presence ? lastSeenLabel(presence.last_seen) : `@${other.username}`) : '';
  }

  const pinsItem: MenuItem[] = onPanel
    ? [
        { id: 'search', label: 'Search messages', icon: <Search className="size-4" aria-hidden />, onSelect: () => onPanel('search') },
        { id: 'pins', label: 'Pinned messages', icon: <Pin className="size-4" aria-hidden />, onSelect: () => onPanel('pins') },
      ]
    : [];
  const items: MenuItem[] = [
    ...pinsItem,
    ...(c.kind === 'group'
      ? ([
          {
            id: 'members',
            label: 'Members',
            description: `${c.members.length} people`,
            icon: <Users className="size-4" aria-hidden />,
            onSelect: () => setDialog('members'),
          },
          ...muteItems,
          {
            id: 'leave',
            label: 'Leave group',
            description: 'You will stop getting its messages',
            icon: <LogOut className="size-4" aria-hidden />,
            tone: 'danger',
            separated: true,
            onSelect: () => setDialog('leave'),
          },
        ] satisfies MenuItem[])
      : muteItems.map((item, i) => (i === 0 && !pinsItem.length ? { ...item, separated: false } : item))),
  ];

  return (
    <header className="flex items-center gap-3 border-b border-slate-900/5 px-3 pb-3 pt-[max(0.75rem,env(safe-area-inset-top))] sm:px-5 dark:border-white/5">
      {!wide && (
        <IconButton label="Back to conversations" onClick={navigation.back} className="-ml-1">
          <ArrowLeft className="size-5" aria-hidden />
        </IconButton>
      )}
      <span className="relative">
        <Avatar name={avatarName(title)} seed={other?.id ?? c.id} className={c.kind === 'group' ? 'rounded-2xl' : undefined} />
        <PresenceDot online={presence?.online === true} />
      </span>
      <div className="min-w-0 flex-1">
        <h2 id="chat-title" className="flex items-center gap-1.5 text-base font-semibold tracking-tight text-slate-900 dark:text-white">
          <span className="truncate">{title}</span>
          {muted && (
            <span title="Muted" className="shrink-0 text-slate-400 dark:text-slate-500">
              <BellOff className="size-3.5" aria-hidden />
              <span className="sr-only">(muted)</span>
            </span>
          )}
        </h2>
        <p
          className={
            presence?.online
              ? 'truncate text-xs font-medium text-emerald-600 dark:text-emerald-400'
              : 'truncate text-xs text-slate-500 dark:text-slate-400'
          }
        >
          {subtitle}
        </p>
      </div>
      {/* 1-on-1 calls in direct conversations with someone else; group calls (rooms) in groups. */}
      {c.kind === 'direct' && other && other.id !== myId && <CallButtons conversationId={c.id} peer={other} />}
      {c.kind === 'group' && (
        <>
          <RoomButtons conversationId={c.id} />
          <IconButton label="Show members" onClick={() => setDialog('members')} className="max-sm:hidden">
            <Users className="size-[18px]" aria-hidden />
          </IconButton>
        </>
      )}
      {onPanel && (
        <>
          <IconButton label="Search messages" aria-pressed={panel === 'search'} onClick={() => onPanel(panel === 'search' ? null : 'search')} className="max-sm:hidden">
            <Search className="size-[18px]" aria-hidden />
          </IconButton>
          <IconButton label="Pinned messages" aria-pressed={panel === 'pins'} onClick={() => onPanel(panel === 'pins' ? null : 'pins')} className="max-sm:hidden">
            <Pin className="size-[18px]" aria-hidden />
          </IconButton>
        </>
      )}
      <Menu
        label={c.kind === 'group' ? 'Group options' : 'Conversation options'}
        items={items}
        triggerClassName="grid size-9 place-items-center rounded-xl text-slate-600 transition-colors hover:bg-slate-900/5 hover:text-slate-900 aria-expanded:bg-slate-900/5 dark:text-slate-300 dark:hover:bg-white/10 dark:hover:text-white dark:aria-expanded:bg-white/10"
      >
        <svg viewBox="0 0 24 24" className="size-5" aria-hidden="true" fill="currentColor">
          <circle cx="5" cy="12" r="1.8" />
          <circle cx="12" cy="12" r="1.8" />
          <circle cx="19" cy="12" r="1.8" />
        </svg>
      </Menu>
      <Suspense fallback={null}>
        {dialog === 'members' && <MembersDialog conversation={c} onClose={() => setDialog(null)} />}
        {dialog === 'leave' && <LeaveDialog conversation={c} title={title} onClose={() => setDialog(null)} />}
      </Suspense>
    </header>
  );
}
