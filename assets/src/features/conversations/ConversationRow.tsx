import { BellOff, Video } from 'lucide-react';
import { memo, useId, type MouseEvent } from 'react';
import type { Conversation } from '../../api';
import { conversationsSelectors, conversationTitle, notificationsSelectors, otherMember, roomsSelectors, typingLabel } from '../../stores';
import { Avatar, avatarName, cn, PresenceDot } from '../../ui';
import { formatListTime } from '../chat/format';
import { useAppState, useServices } from '../services';

interface RowProps {
  conversation: Conversation;
  myId: string | null;
  active: boolean;
}

/** One conversation in the list: who, the last message (or who is typing), when, and unread. */
export const ConversationRow = memo(function ConversationRow({ conversation: c, myId, active }: RowProps) {
  const { navigation } = useServices();
  const id = useId();
  const title = conversationTitle(c, myId);
  const other = c.kind === 'direct' ? otherMember(c, myId) : null;
  const online = useAppState((s) => conversationsSelectors.isOnline(s, other?.id));
  const typingNames = useAppState((s) => conversationsSelectors.typingNames(s, c.id));
  const users = useAppState(conversationsSelectors.users);
  // A group call going on here: the row says so (the chat offers to join).
  const inCall = useAppState((s) => roomsSelectors.live(s, c.id)?.participants.length ?? 0);
  // Muted: still counted, in grey rather than the accent.
  const muted = useAppState((s) => notificationsSelectors.isMuted(s, c.id, Date.now()));
  const typing = typingLabel(typingNames);
  const unread = active ? 0 : c.unread_count;
  const mentioned = active ? 0 : Math.min(c.mention_count ?? 0, unread);

  const last = c.last_message;
  let preview = 'No messages yet';
  if (last?.kind === 'call') {
    preview = last.body; // "Missed video call": the server's record, nobody's words
  } else if (last) {
    const who = last.sender_id === myId ? 'You' : c.kind === 'group' ? users[last.sender_id]?.display_name.split(' ')[0] : null;
    const n = last.attachments?.length ?? 0;
    const text = last.deleted_at ? 'Message deleted' : last.body || (n === 1 ? '📷 Photo' : n > 1 ? `📷 ${n} photos` : '');
    preview = who ? `${who}: ${text}` : text;
  }

  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return; // new tab etc.
    e.preventDefault();
    navigation.open(c.id);
  };

  const label = [title, online ? 'online' : null, muted ? 'muted' : null, inCall > 0 ? 'call in progress' : null, unread > 0 ? `${unread} unread` : null, mentioned > 0 ? `${mentioned} ${mentioned === 1 ? 'mention' : 'mentions'}` : null].filter(Boolean).join(', ');

  return (
    <a
      href={`?c=${encodeURIComponent(c.id)}`}
      onClick={onClick}
      aria-current={active ? 'page' : undefined}
      aria-label={label}
      aria-describedby={`${id}-preview`}
      className={cn(
        'group flex items-center gap-3 rounded-2xl px-2.5 py-2 outline-offset-[-2px] transition-colors',
        active
          ? 'bg-white/75 shadow-sm ring-1 ring-slate-900/5 dark:bg-white/12 dark:ring-white/10'
          : 'hover:bg-white/45 dark:hover:bg-white/6',
      )}
    >
      <span className="relative">
        <Avatar name={avatarName(title)} seed={other?.id ?? c.id} className={c.kind === 'group' ? 'rounded-2xl' : undefined} />
        <PresenceDot online={online} />
      </span>
      <span className="min-w-0 flex-1">
        <span className="flex items-baseline gap-2">
          <span className="truncate text-sm font-semibold text-slate-900 dark:text-white">{title}</span>
          {muted && <BellOff data-testid="row-muted" className="size-3.5 shrink-0 text-slate-400 dark:text-slate-500" aria-hidden />}
          <time
            dateTime={c.last_activity_at}
            className={cn(
              'ml-auto shrink-0 text-[11px] tabular-nums',
              unread > 0 && !muted ? 'font-semibold text-accent-600 dark:text-accent-300' : 'text-slate-500 dark:text-slate-400',
            )}
          >
            {last ? formatListTime(c.last_activity_at) : ''}
          </time>
        </span>
        <span className="mt-0.5 flex items-center gap-2">
          <span
            id={`${id}-preview`}
            className={cn(
              'min-w-0 flex-1 truncate text-[13px]',
              typing
                ? 'font-medium text-accent-600 dark:text-accent-300'
                : unread > 0
                  ? 'text-slate-800 dark:text-slate-200'
                  : 'text-slate-500 dark:text-slate-400',
            )}
          >
            {typing ?? preview}
          </span>
          {inCall > 0 && (
            <span
              data-testid="row-call"
              title={`Call in progress · ${inCall} in the call`}
              className="inline-flex shrink-0 items-center gap-1 rounded-full bg-emerald-500/15 px-1.5 py-0.5 text-[11px] font-semibold tabular-nums text-emerald-700 dark:text-emerald-300"
            >
              <Video className="size-3" aria-hidden />
              {inCall}
            </span>
          )}
          {mentioned > 0 && (
            <span
              data-testid="row-mention"
              aria-hidden="true"
              title={`${mentioned} ${mentioned === 1 ? 'mention' : 'mentions'}`}
              className="grid size-5 shrink-0 place-items-center rounded-full bg-amber-500 text-[12px] font-bold text-white shadow-sm"
            >
              @
            </span>
          )}
          {unread > 0 && (
            <span
              aria-hidden="true"
              className={cn(
                'grid h-5 min-w-5 shrink-0 place-items-center rounded-full px-1.5 text-[11px] font-semibold tabular-nums shadow-sm',
                muted ? 'bg-slate-400/70 text-white dark:bg-slate-500/70' : 'bg-accent-500 text-white',
              )}
            >
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </span>
      </span>
    </a>
  );
});
