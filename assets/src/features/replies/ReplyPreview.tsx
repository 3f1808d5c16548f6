import { CornerUpLeft, X } from 'lucide-react';
import type { ReplyView } from '../../api';
import { replyText } from './reply';

/** Above the composer while writing a reply: who and what it answers; × cancels. */
export function ReplyPreview({ reply, name, onCancel }: { reply: ReplyView; name: string; onCancel(): void }) {
  return (
    <div data-testid="reply-preview" className="flex items-center gap-2 border-b border-slate-900/6 px-3 py-2 dark:border-white/8">
      <CornerUpLeft className="size-4 shrink-0 text-accent-600 dark:text-accent-300" aria-hidden />
      <div className="min-w-0 flex-1 border-l-[3px] border-accent-500 pl-2">
        <p className="text-xs font-semibold text-accent-700 dark:text-accent-300">Replying to {name}</p>
        <p className="truncate text-[13px] text-slate-600 dark:text-slate-300">{replyText(reply)}</p>
      </div>
      <button
        type="button"
        aria-label="Cancel reply"
        onClick={onCancel}
        className="grid size-8 shrink-0 place-items-center rounded-full text-slate-500 hover:bg-slate-900/5 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-white/10 dark:hover:text-white"
      >
        <X className="size-4" aria-hidden />
      </button>
    </div>
  );
}
