import { useVirtualizer } from '@tanstack/react-virtual';
import { ArrowDown } from 'lucide-react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import type { Conversation } from '../../api';
import {
  conversationsSelectors,
  draftsSelectors,
  messagesSelectors,
  receiptsSelectors,
  seenBy,
  seenByLabel,
  tickState,
  type ChatMessage,
  type Thread,
} from '../../stores';
import { cn, Spinner, useMediaQuery } from '../../ui';
import { imagesHeight } from '../attachments/layout';
import { CallRecord } from './CallRecord';
import { DaySeparator, TopRow } from './ListTop';
import { dayKey } from './format';
import { MessageBubble } from './MessageBubble';
import { buildRows } from './rows';
import { useAppState, useServices } from '../services';

/** Within this many pixels of the end counts as "at the latest message". */
const AT_END_PX = 72;
/** Start loading older messages when one of the first rows is rendered (overscan included). */
const LOAD_OLDER_WITHIN_ROWS = 3;
/** Heights of the block above the first row: a spinner, or the beginning of the conversation. */
const SEPARATOR_PX = 40;
const LOADER_PX = 56 + SEPARATOR_PX;
const BEGINNING_PX = 164 + SEPARATOR_PX;

/**
 * The history of one conversation, virtualised (@tanstack/react-virtual): only the rows
 * near the viewport are in the DOM, so a conversation of any length stays light.
 *
 * - Opens at the latest message and follows new ones while at the end (`followOnAppend`).
 * - Scrolling near the top loads the page before the first loaded seq; `anchorTo: 'end'`
 *   keeps the row under the viewport where it was when rows are prepended.
 * - Away from the end, a "jump to latest" button counts what arrived meanwhile.
 * - While the tab is visible it reports the newest seq on screen as read (the gateway
 *   throttles and only moves forward).
 * - A jump (a reply's original, a search hit, a pin) scrolls to its message, loading the
 *   history around it first when it is not loaded, and flashes it; the messages between
 *   that page and the latest ones load as the hole below it comes into view.
 * - The log itself is not a live region (rows mount and unmount as you scroll); one small
 *   polite region announces messages from others as they arrive.
 */
export function MessageList({ conversation: c, title, onOpenImage }: { conversation: Conversation; title: string; onOpenImage(key: string): void }) {
  const { gateway, changes, store } = useServices();
  const cid = c.id;
  const editingId = useAppState((s) => draftsSelectors.editing(s, cid));
  const jump = useAppState((s) => {
    const j = messagesSelectors.jump(s);
    return j?.conversationId === cid ? j : null;
  });
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const thread = useAppState((s) => messagesSelectors.thread(s, cid));
  const pointers = useAppState((s) => receiptsSelectors.pointers(s, cid));
  const users = useAppState(conversationsSelectors.users);
  const reduceMotion = useMediaQuery('(prefers-reduced-motion: reduce)');
  const isGroup = c.kind === 'group';
  const avatarSeed = isGroup ? c.id : (otherMemberId(c, myId) ?? c.id);
  const others = useMemo(() => c.members.map((m) => m.user.id).filter((id) => id !== myId), [c.members, myId]);
  const today = dayKey(Date.now());
  // Stored messages with the user's own changes in flight laid over them.
  const shown = messagesSelectors.shown(thread);
  const { rows, firstDay } = useMemo(
    () => buildRows(shown, thread.pending, myId, new Date(`${today}T12:00:00`), thread.holeAfter),
    // `today` is a dependency so the day separators are re-labelled after midnight.
    [shown, thread.pending, myId, today, thread.holeAfter],
  );
  const nameOf = useCallback((id: string) => users[id]?.display_name ?? 'Former member', [users]);

  // "Seen by …" in groups, under the newest own message.
  const seen = useMemo(() => {
    if (!isGroup) return null;
    for (let i = thread.items.length - 1; i >= 0; i--) {
      const m = thread.items[i]!;
      if (m.sender_id !== myId || m.seq === null || m.kind === 'call') continue;
      const ids = seenBy(m.seq, pointers, others);
      const label = seenByLabel(ids.map(nameOf), ids.length === others.length);
      return label ? { key: m.key, label } : null;
    }
    return null;
  }, [isGroup, thread.items, myId, pointers, others, nameOf]);

  // The top of the list (a spinner, or the beginning of the conversation) is padding, not
  // a row: the virtualizer anchors prepends to the row at the top of the viewport, and
  // that must be a message that stays put, never this block.
  const atBeginning = thread.status === 'ready' && !thread.hasOlder;
  const topHeight = atBeginning ? BEGINNING_PX : LOADER_PX;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => {
      const m = rows[i]?.message;
      if (!m) return 46;
      return (rows[i]!.dayAfter ? 90 : 46) + (rows[i]!.holeAfter ? 52 : 0) + (m.reply_to ? 44 : 0) + (m.reactions.length ? 30 : 0) + imagesHeight(m.attachments);
    },
    getItemKey: (i) => rows[i]!.key,
    overscan: 8,
    paddingStart: topHeight,
    paddingEnd: 6,
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: AT_END_PX,
  });
  const items = virtualizer.getVirtualItems();

  // Open at the latest message. Until that scroll has landed (two frames), the list is not
  // "settled": nothing is loaded or marked read for rows that only flashed by at the top.
  const opened = useRef(false);
  const [settled, setSettled] = useState(false);
  useLayoutEffect(() => {
    if (opened.current || thread.status !== 'ready') return;
    opened.current = true;
    virtualizer.scrollToEnd();
    requestAnimationFrame(() => requestAnimationFrame(() => setSettled(true)));
  });

  // An own message just written: show it, wherever the user was.
  const lastPending = thread.pending[thread.pending.length - 1];
  const lastPendingKey = lastPending?.status === 'pending' ? lastPending.key : null;
  useEffect(() => {
    if (lastPendingKey && opened.current) virtualizer.scrollToEnd();
  }, [lastPendingKey, virtualizer]);

  // Near the top: fetch the page before.
  const firstIndex = items[0]?.index ?? 0;
  useEffect(() => {
    if (!settled || thread.status !== 'ready' || !thread.hasOlder || thread.loadingOlder) return;
    if (firstIndex <= LOAD_OLDER_WITHIN_ROWS) void gateway.loadOlder(cid);
  }, [settled, firstIndex, thread.status, thread.hasOlder, thread.loadingOlder, gateway, cid]);

  // A jump: scroll to its message once it is loaded (asking for the history around it once).
  const [highlight, setHighlight] = useState<string | null>(null);
  const askedAround = useRef<number | null>(null);
  useEffect(() => {
    if (!jump || !settled || thread.status !== 'ready') return;
    const index = rows.findIndex((r) => r.message.seq === jump.seq);
    if (index >= 0) {
      virtualizer.scrollToIndex(index, { align: 'center' });
      setHighlight(rows[index]!.key);
      store.getState().messagesJumpHandled(jump.nonce);
      return;
    }
    if (askedAround.current === jump.nonce) return;
    askedAround.current = jump.nonce;
    void changes.loadAround(cid, jump.seq).then(() => {
      const t = messagesSelectors.thread(store.getState(), cid);
      if (t.items.some((m) => m.seq === jump.seq)) return;
      store.getState().messagesJumpHandled(jump.nonce);
      toast.error('That message is not available.');
    });
  }, [jump, settled, thread.status, rows, virtualizer, store, changes, cid]);
  useEffect(() => {
    if (!highlight) return;
    const t = setTimeout(() => setHighlight(null), 2_000);
    return () => clearTimeout(t);
  }, [highlight]);

  // The hole below a page loaded around a jump: fill it as it comes into view.
  const holeShown = items.some((v) => rows[v.index]?.holeAfter);
  useEffect(() => {
    if (settled && holeShown && !thread.loadingHole) void changes.loadHole(cid);
  }, [settled, holeShown, thread.loadingHole, changes, cid]);

  const atEnd = virtualizer.getDistanceFromEnd() <= AT_END_PX;
  const newestSeq = thread.items[thread.items.length - 1]?.seq ?? 0;

  // What arrived while the user was reading further up.
  const [seenSeq, setSeenSeq] = useState(0);
  useEffect(() => {
    if ((atEnd || !settled) && seenSeq !== newestSeq) setSeenSeq(newestSeq);
  }, [atEnd, settled, newestSeq, seenSeq]);
  const unseen = atEnd ? 0 : countNewFromOthers(thread, seenSeq, myId);

  // Read receipts: the newest seq on screen, while the tab is visible.
  const tabVisible = useTabVisible();
  useEffect(() => {
    const el = scrollRef.current;
    if (!tabVisible || !settled || !el || thread.status !== 'ready') return;
    const top = el.scrollTop;
    const bottom = top + el.clientHeight;
    let max = 0;
    for (const v of items) {
      const row = rows[v.index];
      if (!row || row.message.seq === null) continue;
      if (v.end > top && v.start < bottom) max = Math.max(max, row.message.seq);
    }
    if (max > 0) gateway.markRead(cid, max);
  });

  // Announce others' new messages to screen readers (not the history loaded on open).
  const announced = useRef<number | null>(null);
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => {
    if (thread.status !== 'ready') return;
    const last = thread.items[thread.items.length - 1];
    if (announced.current !== null && last?.seq && last.seq > announced.current && last.sender_id !== myId) {
      const what = last.body.slice(0, 160) || (last.attachments.length === 1 ? 'an image' : `${last.attachments.length} images`);
      setAnnouncement(`${nameOf(last.sender_id)}: ${what}`);
    }
    announced.current = Math.max(announced.current ?? 0, newestSeq);
  }, [newestSeq, thread.status, thread.items, myId, nameOf]);

  // Messages newer than what was loaded on open fade in; history does not.
  const freshAfter = useRef<number | null>(null);
  if (freshAfter.current === null && thread.status === 'ready') freshAfter.current = newestSeq;

  const onRetry = useCallback((m: ChatMessage) => m.client_id && gateway.retry(cid, m.client_id), [gateway, cid]);
  const onDiscard = useCallback(
    (m: ChatMessage) => {
      if (!m.client_id) return;
      // Still uploading: fail it first (only failed messages are discarded); its uploads are then cancelled.
      if (m.status === 'pending') gateway.attachmentFailed(cid, m.client_id, 'cancelled');
      gateway.discard(cid, m.client_id);
    },
    [gateway, cid],
  );

  return (
    <div className="relative min-h-0 flex-1">
      <div
        ref={scrollRef}
        role="log"
        aria-label={`Messages with ${title}`}
        // Rows come and go as the list scrolls; announcements go through the region below.
        aria-live="off"
        tabIndex={0}
        className="h-full overflow-y-auto overscroll-contain outline-offset-[-3px] [overflow-anchor:none]"
      >
        <div className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
          <div className="absolute inset-x-0 top-0 overflow-hidden" style={{ height: topHeight }}>
            <div style={{ height: topHeight - SEPARATOR_PX }}>
              <TopRow thread={thread} title={title} seed={avatarSeed} isGroup={isGroup} onRetry={() => void gateway.loadLatest(cid)} />
            </div>
            {firstDay && <DaySeparator label={firstDay} />}
          </div>
          {items.map((v) => {
            const row = rows[v.index];
            return (
              <div
                key={v.key}
                data-index={v.index}
                ref={virtualizer.measureElement}
                className="absolute left-0 top-0 w-full"
                style={{ transform: `translateY(${v.start}px)` }}
              >
                {row && (
                  <>
                    {row.message.kind === 'call' ? (
                      <CallRecord
                        message={row.message}
                        fresh={row.message.seq === null || row.message.seq > (freshAfter.current ?? Infinity)}
                      />
                    ) : (
                      <MessageBubble
                        message={row.message}
                        own={row.own}
                        first={row.first}
                        last={row.last}
                        senderName={row.own ? 'You' : nameOf(row.message.sender_id)}
                        isGroup={isGroup}
                        tick={row.own ? tickState(row.message, pointers, others) : null}
                        seen={seen?.key === row.key ? seen.label : null}
                        fresh={row.message.seq === null || row.message.seq > (freshAfter.current ?? Infinity)}
                        onRetry={onRetry}
                        onDiscard={onDiscard}
                        onOpenImage={onOpenImage}
                        editing={row.message.id !== null && row.message.id === editingId}
                        highlighted={highlight === row.key}
                      />
                    )}
                    {row.holeAfter && (
                      <div className="flex h-[52px] items-center justify-center">
                        {thread.loadingHole ? (
                          <Spinner label="Loading more messages" className="size-5 text-slate-500" />
                        ) : (
                          <button
                            type="button"
                            onClick={() => void changes.loadHole(cid)}
                            className="glass-subtle rounded-full px-3 py-1.5 text-xs font-semibold text-slate-700 dark:text-slate-200"
                          >
                            Load newer messages
                          </button>
                        )}
                      </div>
                    )}
                    {row.dayAfter && <DaySeparator label={row.dayAfter} />}
                  </>
                )}
              </div>
            );
          })}
        </div>
      </div>

      {!atEnd && thread.status === 'ready' && (
        <button
          type="button"
          onClick={() => virtualizer.scrollToEnd({ behavior: reduceMotion ? 'auto' : 'smooth' })}
          aria-label={unseen > 0 ? `Jump to latest, ${unseen} new ${unseen === 1 ? 'message' : 'messages'}` : 'Jump to latest'}
          className={cn(
            'glass absolute bottom-3 right-4 grid size-11 place-items-center rounded-full text-slate-700 transition-transform hover:scale-105 motion-reduce:hover:scale-100 dark:text-slate-200',
          )}
        >
          <ArrowDown className="size-5" aria-hidden />
          {unseen > 0 && (
            <span
              aria-hidden="true"
              className="absolute -top-1.5 -right-1 grid h-5 min-w-5 place-items-center rounded-full bg-accent-500 px-1.5 text-[11px] font-semibold tabular-nums text-white shadow"
            >
              {unseen > 99 ? '99+' : unseen}
            </span>
          )}
        </button>
      )}

      <div className="sr-only" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
    </div>
  );
}

function otherMemberId(c: Conversation, myId: string | null): string | undefined {
  return c.members.find((m) => m.user.id !== myId)?.user.id;
}

/** Messages from others newer than `seq` (walks back from the end, so it stays cheap). */
function countNewFromOthers(thread: Thread, seq: number, myId: string | null): number {
  let n = 0;
  for (let i = thread.items.length - 1; i >= 0; i--) {
    const m = thread.items[i]!;
    if ((m.seq ?? 0) <= seq) break;
    if (m.sender_id !== myId) n++;
  }
  return n;
}

function useTabVisible(): boolean {
  const [visible, setVisible] = useState(() => typeof document === 'undefined' || document.visibilityState === 'visible');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}
