import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { charCount, MESSAGE_MAX_CHARS } from '../../gateway/protocol';
import { cn } from '../../ui';

const MAX_HEIGHT_PX = 220;

/** Edits an own message in its bubble: Enter saves, Shift+Enter breaks the line, Escape cancels. */
export function InlineEditor({
  body,
  own,
  allowEmpty = false,
  onSave,
  onCancel,
}: {
  body: string;
  own: boolean;
  /** A message with images may lose its text. */
  allowEmpty?: boolean;
  onSave(body: string): void;
  onCancel(): void;
}) {
  const [text, setText] = useState(body);
  const ref = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const over = charCount(text) > MESSAGE_MAX_CHARS;
  const empty = !text.trim() && !allowEmpty;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus({ preventScroll: true });
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text]);

  const save = () => {
    if (empty || over) return;
    if (text.trim() === body.trim()) onCancel();
    else onSave(text.trim());
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      save();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  };
  return (
    <div className="flex min-w-[min(16rem,70vw)] flex-col gap-1">
      <label htmlFor={id} className="sr-only">
        Edit message
      </label>
      <textarea
        id={id}
        ref={ref}
        rows={1}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={over || empty || undefined}
        aria-describedby={`${id}-hint`}
        className={cn(
          'w-full resize-none rounded-xl bg-black/5 px-2 py-1.5 text-[15px] leading-snug focus:outline-none focus-visible:ring-2 dark:bg-white/10',
          own ? 'text-white placeholder:text-white/60 focus-visible:ring-white/60 bg-white/15' : 'focus-visible:ring-accent-500',
        )}
      />
      <p id={`${id}-hint`} className={cn('flex items-center justify-end gap-2 text-[11px]', own ? 'text-white/80' : 'text-slate-500 dark:text-slate-400')}>
        {over ? <span className="font-semibold">Too long</span> : <span>Enter to save · Esc to cancel</span>}
        <button type="button" onClick={onCancel} className="rounded px-1 font-semibold underline underline-offset-2">
          Cancel
        </button>
        <button type="button" onClick={save} disabled={empty || over} className="rounded px-1 font-semibold underline underline-offset-2 disabled:opacity-50">
          Save
        </button>
      </p>
    </div>
  );
}
