import { lazy, Suspense, useCallback, useMemo, useState, type ReactNode } from 'react';
import { toast } from 'sonner';
import type { Conversation } from '../../api';
import { conversationsSelectors, type ChatMessage } from '../../stores';
import { canonicalEmoji } from '../reactions/emoji';
import { replyViewOf } from '../replies/reply';
import { useAppState, useServices } from '../services';
import { ConversationActionsContext, type ConversationActions } from './context';
import { changeErrorText, errorCode } from './errors';

const ActionSheet = lazy(() => import('./ActionSheet'));
const DeleteDialog = lazy(() => import('./DeleteDialog'));
const VersionsDialog = lazy(() => import('./VersionsDialog'));

/**
 * Gives the bubbles of one conversation their actions (reply, edit, delete, react, pin,
 * copy, versions, jump) and holds the dialogs they open. A failed change says why in a
 * toast; the store has rolled it back already.
 */
export function ConversationActionsProvider({ conversation: c, children }: { conversation: Conversation; children: ReactNode }) {
  const { store, changes } = useServices();
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const users = useAppState(conversationsSelectors.users);
  const [sheet, setSheet] = useState<ChatMessage | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const [versions, setVersions] = useState<ChatMessage | null>(null);
  const cid = c.id;

  const nameOf = useCallback((id: string) => (id === myId ? 'You' : (users[id]?.display_name ?? 'Former member')), [users, myId]);
  const usernames = useMemo(() => new Map(c.members.map((m) => [m.user.username.toLocaleLowerCase(), m.user.id])), [c.members]);

  const actions = useMemo<ConversationActions>(() => {
    const failed = (what: string) => (err: unknown) => toast.error(what, { description: changeErrorText(errorCode(err)) });
    const s = () => store.getState();
    return {
      conversation: c,
      myId,
      nameOf,
      usernames,
      reply: (m) => {
        s().draftEditSet(cid, null);
        s().draftReplySet(cid, replyViewOf(m));
        // The composer takes the focus so the answer can be typed at once.
        requestAnimationFrame(() => document.querySelector<HTMLTextAreaElement>('[data-composer]')?.focus());
      },
      startEdit: (m) => m.id && s().draftEditSet(cid, m.id),
      saveEdit: (m, body) => {
        s().draftEditSet(cid, null);
        if (m.id) changes.edit(cid, m.id, body).catch(failed('Could not edit the message'));
      },
      cancelEdit: () => s().draftEditSet(cid, null),
      remove: (m) => setDeleting(m),
      react: (m, emoji) => {
        if (m.id) changes.react(cid, m.id, canonicalEmoji(emoji)).catch(failed('Could not react'));
      },
      pin: (m, pinned) => {
        if (m.id) changes.pin(cid, m.id, pinned).catch(failed(pinned ? 'Could not pin the message' : 'Could not unpin the message'));
      },
      copy: (m) => {
        const done = () => toast.success('Copied');
        const clip = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
        if (clip?.writeText) clip.writeText(m.body).then(done, () => toast.error('Could not copy the text'));
        else toast.error('Could not copy the text');
      },
      showVersions: (m) => setVersions(m),
      openSheet: (m) => setSheet(m),
      jumpTo: (seq) => s().messagesJumpRequested(cid, seq),
    };
  }, [c, cid, myId, nameOf, usernames, store, changes]);

  const confirmDelete = (m: ChatMessage) => {
    if (m.id) changes.remove(cid, m.id).catch((err: unknown) => toast.error('Could not delete the message', { description: changeErrorText(errorCode(err)) }));
  };

  return (
    <ConversationActionsContext.Provider value={actions}>
      {children}
      <Suspense fallback={null}>
        {sheet && <ActionSheet m={sheet} actions={actions} onClose={() => setSheet(null)} />}
        {deleting && <DeleteDialog m={deleting} own={deleting.sender_id === myId} onConfirm={() => confirmDelete(deleting)} onClose={() => setDeleting(null)} />}
        {versions && <VersionsDialog m={versions} onClose={() => setVersions(null)} />}
      </Suspense>
    </ConversationActionsContext.Provider>
  );
}
