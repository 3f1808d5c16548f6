import { Ban, Pin } from 'lucide-react';
import { memo, useMemo, useState } from 'react';
import { uploadErrorText } from '../../api';
import type { ChatMessage, TickState } from '../../stores';
import { ImageGrid } from '../attachments/ImageGrid';
import { useOptionalConversationActions } from '../actions/context';
import { InlineEditor } from '../actions/InlineEditor';
import { MessageToolbar } from '../actions/MessageToolbar';
import { messageActions, NO_ACTIONS } from '../actions/permissions';
import { useLongPress } from '../actions/useLongPress';
import { ReactionChips } from '../reactions/ReactionChips';
import { QuotedReply } from '../replies/QuotedReply';
import { Avatar, cn } from '../../ui';
import { formatTime } from './format';
import { isEmojiOnly } from './linkify';
import { MessageText } from './MessageText';
import { Ticks } from './Ticks';

interface BubbleProps {
  message: ChatMessage;
  own: boolean;
  first: boolean;
  last: boolean;
  /** Groups: who wrote it (shown on the first bubble of a group of others' messages). */
  senderName: string;
  isGroup: boolean;
  tick: TickState | null;
  /** "Seen by …" under the newest own message of a group. */
  seen: string | null;
  fresh: boolean;
  onRetry(message: ChatMessage): void;
  /** Deletes a failed message, or cancels one whose images are still uploading. */
  onDiscard(message: ChatMessage): void;
  /** Opens the lightbox at one of this message's images (by its key). */
  onOpenImage(key: string): void;
  /** Being edited in place (own messages). */
  editing?: boolean;
  /** Just jumped to: flashes once. */
  highlighted?: boolean;
}

const FAILURE: Record<string, string> = {
  timeout: 'Not sent — no answer from the server.',
  rate_limited: 'Not sent — too many messages at once.',
  validation_failed: 'Not sent — the message is empty or too long.',
  not_found: 'Not sent — you are no longer in this conversation.',
  delivery_failed: 'Not delivered — the server could not store it.',
  unavailable: 'Not sent — the server is busy.',
  attachment_used: 'Not sent — an image was already sent in another message.',
};

function failure(code: string | null): string {
  if (code && FAILURE[code]) return FAILURE[code];
  if (code && uploadErrorText(code) !== uploadErrorText('')) return `Not sent — ${uploadErrorText(code)}`;
  return 'Not sent.';
}

export const MessageBubble = memo(function MessageBubble({
  message: m,
  own,
  first,
  last,
  senderName,
  isGroup,
  tick,
  seen,
  fresh,
  onRetry,
  onDiscard,
  onOpenImage,
  editing = false,
  highlighted = false,
}: BubbleProps) {
  const actions = useOptionalConversationActions();
  const allowed = actions ? messageActions(m, actions.conversation, actions.myId) : NO_ACTIONS;
  const anyAction = Object.values(allowed).some(Boolean);
  const [toolbarOpen, setToolbarOpen] = useState(false);
  const longPress = useLongPress(() => {
    if (anyAction) actions?.openSheet(m);
  });
  // The usernames this message mentions, to highlight them.
  const mentioned = useMemo(() => {
    if (!actions || m.mentions.length === 0) return undefined;
    const ids = new Set(m.mentions);
    return new Map([...actions.usernames].filter(([, id]) => ids.has(id)));
  }, [actions, m.mentions]);
  const deleted = m.deleted_at !== null;
  const busy = m.changing.includes('delete') || m.changing.includes('pin');
  const images = m.attachments;
  const hasImages = images.length > 0;
  const imagesOnly = hasImages && !m.body;
  const emoji = !hasImages && !editing && !m.reply_to && isEmojiOnly(m.body);
  // A message whose images never reached the server cannot be sent again as it is.
  const canRetry = images.every((a) => a.id !== null);
  const showName = isGroup && !own && first;
  const time = formatTime(m.created_at);

  return (
    <div className={cn('flex px-3 sm:px-5', own ? 'justify-end' : 'justify-start', first ? 'pt-2.5' : 'pt-0.5')}>
      {isGroup && !own && (
        <div className="mr-2 w-8 shrink-0 self-end">
          {last && <Avatar name={senderName} seed={m.sender_id} size="sm" />}
        </div>
      )}
      <div data-testid="message-column" className={cn('flex min-w-0 max-w-[min(80%,34rem)] flex-col', own ? 'items-end' : 'items-start')}>
        {showName && (
          <span className="px-3 pb-0.5 text-xs font-semibold text-accent-700 dark:text-accent-300" aria-hidden="true">
            {senderName}
          </span>
        )}
        <div className={cn('group/bubble relative flex min-w-0 max-w-full flex-col', own ? 'items-end' : 'items-start')}>
        {anyAction && actions && !editing && (
          <MessageToolbar m={m} own={own} allowed={allowed} actions={actions} open={toolbarOpen} onOpenChange={setToolbarOpen} />
        )}
        <div
          data-testid="message"
          data-seq={m.seq ?? undefined}
          data-status={m.status}
          data-deleted={deleted || undefined}
          data-highlighted={highlighted || undefined}
          {...(anyAction ? longPress : {})}
          className={cn(
            'relative min-w-0 max-w-full',
            fresh && 'bubble-in',
            highlighted && 'bubble-flash',
            busy && 'opacity-60',
            deleted && '!bg-none !bg-transparent !text-slate-500 !shadow-none ring-1 !ring-slate-400/40 dark:!text-slate-400 dark:!ring-white/15',
            emoji
              ? 'px-1 text-4xl leading-tight'
              : own
                ? 'rounded-[1.25rem] text-[15px] leading-snug bg-gradient-to-br from-accent-500 to-accent-600 text-white shadow-sm shadow-accent-700/20 dark:from-accent-500 dark:to-accent-700'
                : 'rounded-[1.25rem] text-[15px] leading-snug bg-white/85 text-slate-900 shadow-sm ring-1 ring-slate-900/5 dark:bg-white/10 dark:text-slate-100 dark:ring-white/8',
            !emoji && (hasImages ? 'p-1' : 'px-3.5 py-2'),
            !emoji && own && !first && 'rounded-tr-md',
            !emoji && own && !last && 'rounded-br-md',
            !emoji && !own && !first && 'rounded-tl-md',
            !emoji && !own && !last && 'rounded-bl-md',
            m.status === 'failed' && 'opacity-80',
          )}
        >
          <span className="sr-only">
            {own ? 'You' : senderName}
            {hasImages ? ` (${images.length === 1 ? 'an image' : `${images.length} images`})` : ''}:{' '}
          </span>
          {m.reply_to && (
            <QuotedReply
              reply={m.reply_to}
              own={own && !deleted}
              name={actions?.nameOf(m.reply_to.sender_id) ?? 'Someone'}
              onJump={actions && m.reply_to.seq > 0 ? actions.jumpTo : undefined}
            />
          )}
          {hasImages && <ImageGrid images={images} onOpen={onOpenImage} pending={m.status !== 'stored'} />}
          <div className={cn(hasImages && !imagesOnly && 'px-2.5 pb-1 pt-1')}>
          {deleted ? (
            <span className="inline-flex items-center gap-1.5 italic">
              <Ban className="size-3.5" aria-hidden />
              Message deleted
            </span>
          ) : editing && actions ? (
            <InlineEditor body={m.body} own={own} allowEmpty={hasImages} onSave={(body) => actions.saveEdit(m, body)} onCancel={actions.cancelEdit} />
          ) : (
            m.body && (
              <span className="whitespace-pre-wrap [overflow-wrap:anywhere]">
                <MessageText body={m.body} own={own && !emoji} mentions={mentioned} myId={actions?.myId ?? null} />
              </span>
            )
          )}
          <span
            className={cn(
              'inline-flex items-center gap-1 text-[11px] leading-none tabular-nums select-none',
              // Images alone: the time sits on the last image, in a dark pill.
              imagesOnly
                ? 'pointer-events-none absolute bottom-2.5 right-2.5 rounded-full bg-black/50 px-2 py-1 text-white'
                : 'float-right ml-2.5 mt-1.5 translate-y-0.5',
              imagesOnly ? '' : emoji ? 'text-xs text-slate-500 dark:text-slate-400' : own ? 'text-white/75' : 'text-slate-500 dark:text-slate-400',
            )}
          >
            {m.pinned_at && !deleted && (
              <span title="Pinned">
                <Pin className="size-3" aria-hidden />
                <span className="sr-only">Pinned. </span>
              </span>
            )}
            {m.edited_at && !deleted && (
              <button
                type="button"
                disabled={!actions || m.changing.includes('edit')}
                onClick={() => actions?.showVersions(m)}
                aria-label={m.changing.includes('edit') ? 'Saving the edit' : 'Edited: show the versions'}
                className="pointer-events-auto rounded px-0.5 italic underline-offset-2 hover:underline disabled:no-underline"
              >
                {m.changing.includes('edit') ? 'saving…' : 'edited'}
              </button>
            )}
            {!m.edited_at && m.changing.includes('edit') && <span className="italic">saving…</span>}
            <time dateTime={m.created_at}>{time}</time>
            {tick && <Ticks state={tick} className={emoji ? 'text-accent-500' : undefined} />}
          </span>
          </div>
        </div>
        </div>
        {!deleted && m.reactions.length > 0 && (
          <ReactionChips
            reactions={m.reactions}
            myId={actions?.myId ?? null}
            own={own}
            nameOf={actions?.nameOf ?? (() => 'Someone')}
            onToggle={actions && allowed.react ? (e) => actions.react(m, e) : undefined}
          />
        )}
        {m.status === 'pending' && !canRetry && (
          <button
            type="button"
            onClick={() => onDiscard(m)}
            aria-label="Cancel sending"
            className="mt-1 rounded-md px-1 text-xs text-slate-500 underline underline-offset-2 hover:text-slate-700 dark:text-slate-400"
          >
            Cancel
          </button>
        )}
        {m.status === 'failed' && (
          <div className="mt-1 flex flex-wrap items-center justify-end gap-x-2 px-1 text-xs text-rose-600 dark:text-rose-300">
            <span>{failure(m.error)}</span>
            {canRetry && (
              <button
                type="button"
                onClick={() => onRetry(m)}
                className="rounded-md px-1 font-semibold underline underline-offset-2 hover:text-rose-700 dark:hover:text-rose-200"
              >
                Retry
              </button>
            )}
            <button
              type="button"
              onClick={() => onDiscard(m)}
              className="rounded-md px-1 text-slate-500 underline underline-offset-2 hover:text-slate-700 dark:text-slate-400"
            >
              Delete
            </button>
          </div>
        )}
        {seen && <p className="mt-1 px-1 text-[11px] font-medium text-slate-500 dark:text-slate-400">{seen}</p>}
      </div>
    </div>
  );
});
