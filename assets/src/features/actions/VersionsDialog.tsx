import { useEffect, useState } from 'react';
import { describeError, type MessageVersion } from '../../api';
import type { ChatMessage } from '../../stores';
import { Dialog, Spinner } from '../../ui';
import { formatTime } from '../chat/format';
import { useServices } from '../services';

/** The versions of an edited message (`GET …/versions`), oldest first, the current one last. */
export default function VersionsDialog({ m, onClose }: { m: ChatMessage; onClose(): void }) {
  const { api } = useServices();
  const [state, setState] = useState<{ versions: MessageVersion[] } | { error: string } | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api.changes
      .versions(m.conversation_id, m.id ?? '', ctl.signal)
      .then((versions) => setState({ versions }))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ error: describeError(err) });
      });
    return () => ctl.abort();
  }, [api, m.conversation_id, m.id]);

  return (
    <Dialog title="Edit history" description="Every version of this message, oldest first." onClose={onClose}>
      {state === null ? (
        <div className="grid place-items-center py-8 text-slate-500">
          <Spinner label="Loading versions" />
        </div>
      ) : 'error' in state ? (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-300">
          {state.error}
        </p>
      ) : (
        <ol className="-mx-1 flex flex-col gap-2 overflow-y-auto px-1" aria-label="Versions">
          {state.versions.map((v, i) => {
            const current = i === state.versions.length - 1;
            return (
              <li key={v.version} className="rounded-2xl bg-slate-900/4 px-3.5 py-2.5 dark:bg-white/6">
                <p className="mb-1 flex items-center gap-2 text-[11px] font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                  {v.version === 1 ? 'Original' : `Edit ${v.version - 1}`}
                  {current && <span className="rounded-full bg-accent-500/15 px-1.5 py-0.5 normal-case tracking-normal text-accent-700 dark:text-accent-200">current</span>}
                  <time dateTime={v.created_at} className="ml-auto font-normal normal-case tracking-normal tabular-nums">
                    {formatTime(v.created_at)}
                  </time>
                </p>
                <p className="whitespace-pre-wrap text-sm [overflow-wrap:anywhere]">{v.body}</p>
              </li>
            );
          })}
        </ol>
      )}
    </Dialog>
  );
}
