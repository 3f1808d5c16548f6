import { ImagePlus, SendHorizontal } from 'lucide-react';
import { useEffect, useId, useLayoutEffect, useMemo, useRef, type ClipboardEvent, type KeyboardEvent } from 'react';
import { ACCEPTED_IMAGE_TYPES } from '../../api';
import { charCount, MESSAGE_MAX_CHARS } from '../../gateway/protocol';
import { conversationsSelectors, draftsSelectors, uploadsSelectors } from '../../stores';
import { cn, useMediaQuery } from '../../ui';
import { Tray } from '../attachments/Tray';
import { pastedFiles } from '../attachments/useFileDrop';
import { MentionSuggestions } from '../mentions/MentionSuggestions';
import { useMentions } from '../mentions/useMentions';
import { ReplyPreview } from '../replies/ReplyPreview';
import { useAppState, useServices } from '../services';

/** Show the counter from this many characters on. */
export const COUNTER_FROM = MESSAGE_MAX_CHARS - 500;
const MAX_HEIGHT_PX = 176;

/**
 * Writes a message: Enter sends, Shift+Enter breaks the line. The draft lives in the store
 * (and sessionStorage), so switching conversations or reloading keeps it. Typing sends
 * `typing.start` (throttled by the gateway) and stops on send, blur or an empty box.
 * Images come in by the attach button or a paste (drops are handled by the chat view) and
 * wait in the tray above the text, uploading; Send takes them along (the upload queue).
 * A reply shows what it answers above the text (× or Escape cancels). In groups, `@`
 * suggests members (arrows, Enter or Tab, Escape).
 */
export function Composer({ conversationId, title }: { conversationId: string; title: string }) {
  const { gateway, uploads } = useServices();
  const id = useId();
  const tray = useAppState((s) => uploadsSelectors.tray(s, conversationId));
  const fileRef = useRef<HTMLInputElement>(null);
  const draft = useAppState((s) => draftsSelectors.of(s, conversationId));
  const setDraft = useAppState((s) => s.draftChanged);
  const ref = useRef<HTMLTextAreaElement>(null);
  const wide = useMediaQuery('(min-width: 768px)');
  const replyTo = useAppState((s) => draftsSelectors.replyTo(s, conversationId));
  const clearReply = useAppState((s) => s.draftReplySet);
  const c = useAppState((s) => conversationsSelectors.byId(s, conversationId));
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const users = useAppState(conversationsSelectors.users);
  const members = useMemo(() => (c?.members ?? []).map((m) => m.user), [c?.members]);
  const mentions = useMentions({
    enabled: c?.kind === 'group',
    members,
    myId,
    text: draft,
    ref,
    setText: (text) => setDraft(conversationId, text),
  });
  const replyName = replyTo ? (replyTo.sender_id === myId ? 'yourself' : (users[replyTo.sender_id]?.display_name ?? 'Former member')) : '';
  const chars = charCount(draft);
  const over = chars > MESSAGE_MAX_CHARS;
  const near = chars >= COUNTER_FROM;
  const images = tray.filter((u) => u.status !== 'failed').length;
  const canSend = (draft.trim().length > 0 || images > 0) && !over;

  // Grow with the text, up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [draft]);

  // On a wide screen, opening a conversation puts the cursor here (on a phone it would pop the keyboard).
  useEffect(() => {
    if (wide) ref.current?.focus({ preventScroll: true });
  }, [conversationId, wide]);

  useEffect(() => () => gateway.typingStop(conversationId), [gateway, conversationId]);

  const send = () => {
    if (!canSend) return;
    uploads.send(conversationId, draft.trim(), replyTo);
    gateway.typingStop(conversationId);
    setDraft(conversationId, '');
    if (replyTo) clearReply(conversationId, null);
    ref.current?.focus();
  };

  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = pastedFiles(e.clipboardData);
    if (!files.length) return;
    e.preventDefault();
    void uploads.add(conversationId, files);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mentions.onKeyDown(e)) return;
    if (e.key === 'Escape' && replyTo) {
      e.preventDefault();
      clearReply(conversationId, null);
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
      className="px-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] sm:px-4"
    >
      <div
        className={cn(
          'relative rounded-[1.4rem] border bg-white/75 shadow-sm transition-[border-color,box-shadow]',
          'focus-within:ring-4 dark:bg-slate-900/55',
          over
            ? 'border-rose-400 focus-within:ring-rose-500/20'
            : 'border-slate-300/70 focus-within:border-accent-500 focus-within:ring-accent-500/15 dark:border-white/10 dark:focus-within:border-accent-400',
        )}
      >
        {mentions.open && <MentionSuggestions id={`${id}-mentions`} users={mentions.users} active={mentions.active} onPick={mentions.pick} />}
        {replyTo && <ReplyPreview reply={replyTo} name={replyName} onCancel={() => clearReply(conversationId, null)} />}
        <Tray uploads={tray} onRemove={(uid) => uploads.remove(uid)} />
        <div className="flex items-end gap-1">
        <input
          ref={fileRef}
          type="file"
          accept={ACCEPTED_IMAGE_TYPES.join(',')}
          multiple
          hidden
          data-testid="attach-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            if (files.length) void uploads.add(conversationId, files);
          }}
        />
        <button
          type="button"
          aria-label="Attach images"
          title="Attach images"
          onClick={() => fileRef.current?.click()}
          className="m-1 mr-0 grid size-9 shrink-0 place-items-center rounded-full text-slate-500 hover:bg-slate-900/5 hover:text-slate-700 dark:text-slate-400 dark:hover:bg-white/10 dark:hover:text-slate-200"
        >
          <ImagePlus className="size-5" aria-hidden />
        </button>
        <label htmlFor={id} className="sr-only">
          Message
        </label>
        <textarea
          id={id}
          ref={ref}
          rows={1}
          value={draft}
          placeholder={replyTo ? `Reply to ${replyName}` : `Message ${title}`}
          data-composer=""
          aria-autocomplete={c?.kind === 'group' ? 'list' : undefined}
          aria-controls={mentions.open ? `${id}-mentions` : undefined}
          aria-activedescendant={mentions.open ? `${id}-mentions-${mentions.active}` : undefined}
          onSelect={mentions.track}
          onChange={(e) => {
            const text = e.target.value;
            setDraft(conversationId, text);
            mentions.track();
            if (text.trim()) gateway.typingActivity(conversationId);
            else gateway.typingStop(conversationId);
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => gateway.typingStop(conversationId)}
          aria-invalid={over || undefined}
          aria-describedby={near ? `${id}-count` : undefined}
          enterKeyHint="send"
          className="max-h-44 min-h-11 flex-1 resize-none bg-transparent py-[11px] pl-1 text-[15px] leading-snug text-slate-900 placeholder:text-slate-400 focus:outline-none focus-visible:outline-none dark:text-slate-100 dark:placeholder:text-slate-500"
        />
        <button
          type="submit"
          disabled={!canSend}
          aria-label="Send message"
          title="Send (Enter)"
          className={cn(
            'm-1 grid size-9 shrink-0 place-items-center rounded-full transition-[background-color,opacity,transform] duration-150',
            'bg-gradient-to-b from-accent-500 to-accent-600 text-white shadow-sm active:scale-95 motion-reduce:active:scale-100',
            'disabled:cursor-default disabled:from-slate-300 disabled:to-slate-300 disabled:text-white/90 disabled:shadow-none dark:disabled:from-white/10 dark:disabled:to-white/10',
          )}
        >
          <SendHorizontal className="size-[18px]" aria-hidden />
        </button>
        </div>
      </div>
      {near && (
        <p
          id={`${id}-count`}
          aria-live="polite"
          className={cn(
            'mt-1 px-3 text-right text-xs tabular-nums',
            over ? 'font-semibold text-rose-600 dark:text-rose-300' : 'text-slate-500 dark:text-slate-400',
          )}
        >
          {over
            ? `${(chars - MESSAGE_MAX_CHARS).toLocaleString()} characters over the limit`
            : `${chars.toLocaleString()} / ${MESSAGE_MAX_CHARS.toLocaleString()}`}
        </p>
      )}
    </form>
  );
}
