import { conversationsSelectors, typingLabel } from '../../stores';
import { useAppState } from '../services';

/** "Bob is typing…" above the composer; its line is always reserved, so nothing jumps. */
export function TypingIndicator({ conversationId }: { conversationId: string }) {
  const names = useAppState((s) => conversationsSelectors.typingNames(s, conversationId));
  const label = typingLabel(names);
  return (
    <div className="flex h-6 items-center gap-2 px-5 text-xs font-medium text-slate-500 dark:text-slate-400">
      {label && (
        <>
          <span className="inline-flex gap-0.5" aria-hidden="true">
            <span className="typing-dot size-1.5 rounded-full bg-current" />
            <span className="typing-dot size-1.5 rounded-full bg-current" />
            <span className="typing-dot size-1.5 rounded-full bg-current" />
          </span>
          <span>{label}</span>
        </>
      )}
    </div>
  );
}
