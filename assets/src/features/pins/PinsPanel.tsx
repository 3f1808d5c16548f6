import { Pin, PinOff } from 'lucide-react';
import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { describeError, type Conversation, type Message } from '../../api';
import { conversationsSelectors, messagesSelectors } from '../../stores';
import { Avatar, Spinner } from '../../ui';
import { SidePanel } from '../../ui/SidePanel';
import { isAdmin } from '../actions/permissions';
import { changeErrorText, errorCode } from '../actions/errors';
import { formatListTime } from '../chat/format';
import { replyText, snippetOf } from '../replies/reply';
import { useAppState, useServices } from '../services';

/**
 * The conversation's pinned messages (GET …/pins), newest pin first; each jumps to its
 * message, and who may pin may unpin here too. It reloads when a change reaches the
 * conversation (a pin or unpin anywhere).
 */
export default function PinsPanel({ conversation: c, onClose }: { conversation: Conversation; onClose(): void }) {
  const { api, store, changes } = useServices();
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const users = useAppState(conversationsSelectors.users);
  const changeSeq = useAppState((s) => messagesSelectors.thread(s, c.id).changeSeq);
  const [pins, setPins] = useState<Message[] | { error: string } | null>(null);
  const canPin = c.kind === 'direct' || isAdmin(c, myId);

  useEffect(() => {
    const ctl = new AbortController();
    api.changes.pins(c.id, ctl.signal).then(setPins, (err: unknown) => !ctl.signal.aborted && setPins({ error: describeError(err) }));
    return () => ctl.abort();
  }, [api, c.id, changeSeq]);

  const nameOf = (uid: string) => (uid === myId ? 'You' : (users[uid]?.display_name ?? 'Former member'));
  const jump = (m: Message) => {
    store.getState().messagesJumpRequested(c.id, m.seq);
    if (window.matchMedia?.('(max-width: 639px)').matches) onClose();
  };

  return (
    <SidePanel title="Pinned messages" onClose={onClose}>
      <div className="min-h-0 flex-1 overflow-y-auto p-2">
        {pins === null ? (
          <div className="grid place-items-center py-8 text-slate-500">
            <Spinner label="Loading pinned messages" />
          </div>
        ) : 'error' in pins ? (
          <p role="alert" className="px-3 py-6 text-center text-sm text-rose-600 dark:text-rose-300">
            {pins.error}
          </p>
        ) : pins.length === 0 ? (
          <div className="flex flex-col items-center gap-2 px-6 py-10 text-center text-sm text-slate-500 dark:text-slate-400">
            <Pin className="size-6" aria-hidden />
            Nothing is pinned here yet.
          </div>
        ) : (
          <ul aria-label="Pinned messages" className="flex flex-col gap-1">
            {pins.map((m) => (
              <li key={m.id} className="flex items-start gap-1 rounded-2xl hover:bg-slate-900/5 dark:hover:bg-white/8">
                <button type="button" data-testid="pinned-message" onClick={() => jump(m)} className="flex min-w-0 flex-1 items-start gap-2.5 rounded-2xl px-2.5 py-2 text-left">
                  <Avatar name={nameOf(m.sender_id)} seed={m.sender_id} size="sm" />
                  <span className="min-w-0 flex-1">
                    <span className="flex items-baseline gap-2 text-xs">
                      <span className="truncate font-semibold text-slate-900 dark:text-white">{nameOf(m.sender_id)}</span>
                      <time dateTime={m.created_at} className="ml-auto shrink-0 tabular-nums text-slate-500 dark:text-slate-400">
                        {formatListTime(m.created_at)}
                      </time>
                    </span>
                    <span className="mt-0.5 line-clamp-3 text-sm text-slate-700 dark:text-slate-200">
                      {snippetOf(m.body) || replyText({ id: m.id, seq: m.seq, sender_id: m.sender_id, snippet: '', deleted: !!m.deleted_at, attachments: m.attachments?.length ?? 0 })}
                    </span>
                    {m.pinned_by && <span className="mt-0.5 block text-[11px] text-slate-500 dark:text-slate-400">Pinned by {nameOf(m.pinned_by)}</span>}
                  </span>
                </button>
                {canPin && (
                  <button
                    type="button"
                    aria-label="Unpin"
                    title="Unpin"
                    onClick={() =>
                      changes.pin(c.id, m.id, false).then(
                        () => setPins((p) => (Array.isArray(p) ? p.filter((x) => x.id !== m.id) : p)),
                        (err: unknown) => toast.error('Could not unpin the message', { description: changeErrorText(errorCode(err)) }),
                      )
                    }
                    className="m-1.5 grid size-8 shrink-0 place-items-center rounded-full text-slate-500 hover:bg-slate-900/6 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-white/10 dark:hover:text-white"
                  >
                    <PinOff className="size-4" aria-hidden />
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </SidePanel>
  );
}
