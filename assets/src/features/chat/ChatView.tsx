import { MessageSquareOff } from 'lucide-react';
import { conversationsSelectors, conversationTitle } from '../../stores';
import { Button, Spinner } from '../../ui';
import { ChatHeader } from './ChatHeader';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { TypingIndicator } from './TypingIndicator';
import { useAppState, useServices } from '../services';

/** One open conversation: header, history, who is typing, and the composer. */
export function ChatView({ conversationId }: { conversationId: string }) {
  const { navigation } = useServices();
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
    <section aria-labelledby="chat-title" className="flex h-full min-h-0 flex-1 flex-col">
      <ChatHeader conversation={c} title={title} />
      <MessageList conversation={c} title={title} />
      <TypingIndicator conversationId={c.id} />
      <Composer conversationId={c.id} title={title} />
    </section>
  );
}
