import type { Participant } from '../../stores';
import { conversationsSelectors } from '../../stores';
import { Avatar, avatarName, cn } from '../../ui';
import { useAppState } from '../services';

/** Up to `max` overlapping avatars of the people in a call, then "+N". */
export function ParticipantStack({ participants, max = 4, className }: { participants: readonly Participant[]; max?: number; className?: string }) {
  const users = useAppState(conversationsSelectors.users);
  const shown = participants.slice(0, max);
  const more = participants.length - shown.length;
  return (
    <span className={cn('flex items-center -space-x-2', className)} aria-hidden="true">
      {shown.map((p) => (
        <Avatar
          key={p.userId}
          name={avatarName(users[p.userId]?.display_name ?? 'Someone')}
          seed={p.userId}
          size="sm"
          className="size-7 text-[10px] ring-2 ring-white dark:ring-slate-900"
        />
      ))}
      {more > 0 && (
        <span className="grid size-7 place-items-center rounded-full bg-slate-200 text-[10px] font-semibold text-slate-700 ring-2 ring-white dark:bg-slate-700 dark:text-slate-100 dark:ring-slate-900">
          +{more}
        </span>
      )}
    </span>
  );
}
