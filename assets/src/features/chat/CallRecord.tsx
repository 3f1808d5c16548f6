import { Phone, PhoneMissed } from 'lucide-react';
import { memo } from 'react';
import type { ChatMessage } from '../../stores';
import { cn } from '../../ui';
import { formatTime } from './format';

/** A call the server recorded in the conversation ("Missed video call"): a small centred row, not a bubble. */
export const CallRecord = memo(function CallRecord({ message: m, fresh }: { message: ChatMessage; fresh: boolean }) {
  const missed = /missed|no answer|declined/i.test(m.body);
  const Icon = missed ? PhoneMissed : Phone;
  return (
    <div className={cn('flex justify-center px-3 pt-2.5 sm:px-5', fresh && 'bubble-in')}>
      <p
        data-testid="call-record"
        data-seq={m.seq ?? undefined}
        className="glass-subtle inline-flex max-w-full items-center gap-2 rounded-full px-3 py-1 text-xs font-medium text-slate-600 shadow-sm dark:text-slate-300"
      >
        <Icon
          className={cn('size-3.5 shrink-0', missed ? 'text-rose-500 dark:text-rose-400' : 'text-emerald-600 dark:text-emerald-400')}
          aria-hidden
        />
        <span className="truncate">{m.body}</span>
        <time dateTime={m.created_at} className="shrink-0 tabular-nums text-slate-500 dark:text-slate-400">
          {formatTime(m.created_at)}
        </time>
      </p>
    </div>
  );
});
