import { ImagePlus, MessageSquareOff } from 'lucide-react';
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { conversationsSelectors, conversationTitle, messagesSelectors } from '../../stores';
import { Button, Spinner } from '../../ui';
import { ConversationActionsProvider } from '../actions/ConversationActionsProvider';
import { ChatHeader, type ChatPanel } from './ChatHeader';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { TypingIndicator } from './TypingIndicator';
import { Lightbox } from '../attachments/Lightbox';
import { RoomBanner } from '../rooms/RoomBanner';
import { useFileDrop } from '../attachments/useFileDrop';
import { useAppState, useServices } from '../services';

const SearchPanel = lazy(() => import('../search/SearchPanel'));
const PinsPanel = lazy(() => import('../pins/PinsPanel'));

/**
 * One open conversation: header, history, who is typing, and the composer; images dropped
 * anywhere on it go to the composer's tray, and a clicked image opens the lightbox. The
 * bubbles' actions come from ConversationActionsProvider; search and the pinned messages
 * open as a panel over the right of it.
 */
export function ChatView({ conversationId }: { conversationId: string }) {
  const { navigation, uploads } = useServices();
  const drop = useFileDrop((files) => void uploads.add(conversationId, files));
  const [viewing, setViewing] = useState<string | null>(null);
  const [panel, setPanel] = useState<ChatPanel | null>(null);
  // Another conversation: the search stays open (it may have brought us here), the pins do not.
  useEffect(() => setPanel((p) => (p === 'pins' ? null : p)), [conversationId]);
  const onOpenImage = useCallback((key: string) => setViewing(key), []);
  const c = useAppState((s) => conversationsSelectors.byId(s, conversationId));
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const listStatus = useAppState(conversationsSelectors.status);

  if (!c) {
    // Opened from a link before the list arrived, or not a conversation of this user.
    const missing = listStatus === 'ready' || listStatus === 'error';
    return (
      <div className="flex flex-1 flex-col items-center justify-center gap-4 p-8 text-center">
        {missing ? (
          <>
            <MessageSquareOff className="size-8 text-slate-400" aria-hidden />
            <p className="text-sm text-slate-600 dark:text-slate-400">This conversation is not available.</p>
            <Button variant="secondary" size="sm" onClick={navigation.back}>
              Back to conversations
            </Button>
          </>
        ) : (
          <Spinner label="Loading conversation" className="size-5 text-slate-500" />
        )}
      </div>
    );
  }

  const title = conversationTitle(c, myId);
  return (
    <section aria-labelledby="chat-title" className="relative flex h-full min-h-0 flex-1 flex-col" {...drop.handlers}>
      <ConversationActionsProvider conversation={c}>
      <ChatHeader conversation={c} title={title} panel={panel} onPanel={setPanel} />
      {c.kind === 'group' && <RoomBanner conversationId={c.id} />}
      <MessageList conversation={c} title={title} onOpenImage={onOpenImage} />
      <TypingIndicator conversationId={c.id} />
      <Composer conversationId={c.id} title={title} />
      <Suspense fallback={null}>
        {panel === 'search' && <SearchPanel conversation={c} onClose={() => setPanel(null)} />}
        {panel === 'pins' && <PinsPanel conversation={c} onClose={() => setPanel(null)} />}
      </Suspense>
      </ConversationActionsProvider>
      {drop.dragging && (
        <div className="pointer-events-none absolute inset-2 z-20 grid place-items-center rounded-3xl border-2 border-dashed border-accent-500 bg-accent-500/10 backdrop-blur-sm">
          <p className="flex items-center gap-2 text-base font-semibold text-accent-700 dark:text-accent-200">
            <ImagePlus className="size-6" aria-hidden /> Drop images to attach
          </p>
        </div>
      )}
      {viewing && <ConversationLightbox conversationId={c.id} startKey={viewing} onClose={() => setViewing(null)} />}
    </section>
  );
}

function ConversationLightbox({ conversationId, startKey, onClose }: { conversationId: string; startKey: string; onClose(): void }) {
  const thread = useAppState((s) => messagesSelectors.thread(s, conversationId));
  const users = useAppState(conversationsSelectors.users);
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const images = useMemo(() => messagesSelectors.images(thread), [thread]);
  const nameOf = useCallback((id: string) => (id === myId ? 'You' : (users[id]?.display_name ?? 'Former member')), [users, myId]);
  return <Lightbox images={images} startKey={startKey} nameOf={nameOf} onClose={onClose} />;
}
