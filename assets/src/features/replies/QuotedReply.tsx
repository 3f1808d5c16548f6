import { CornerUpLeft } from 'lucide-react';
import type { ReplyView } from '../../api';
import { cn } from '../../ui';
import { replyText } from './reply';

/** The quoted original inside a reply bubble; a click scrolls to it. */
export function QuotedReply({ reply, own, name, onJump }: { reply: ReplyView; own: boolean; name: string; onJump?(seq: number): void }) {
  return (
    <button
      type="button"
      data-testid="quoted-reply"
      onClick={() => onJump?.(reply.seq)}
      disabled={!onJump || reply.deleted}
      aria-label={`Reply to ${name}: ${replyText(reply)}. Show the original`}
      className={cn(
        'mb-1 flex w-full min-w-0 max-w-full flex-col items-start rounded-xl border-l-[3px] px-2.5 py-1 text-left text-[13px] leading-snug',
        own ? 'border-white/70 bg-white/15 text-white/90 hover:bg-white/20' : 'border-accent-500 bg-accent-500/8 text-slate-700 hover:bg-accent-500/12 dark:bg-white/8 dark:text-slate-200',
        'disabled:cursor-default',
      )}
    >
      <span className={cn('flex items-center gap-1 text-xs font-semibold', own ? 'text-white' : 'text-accent-700 dark:text-accent-300')}>
        <CornerUpLeft className="size-3" aria-hidden />
        {name}
      </span>
      <span className={cn('max-w-full truncate', reply.deleted && 'italic opacity-75')}>{replyText(reply)}</span>
    </button>
  );
}
