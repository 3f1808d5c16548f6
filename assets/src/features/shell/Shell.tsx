import { SquarePen, Users } from 'lucide-react';
import { lazy, Suspense, useState } from 'react';
import { conversationsSelectors, serverSelectors } from '../../stores';
import { IconButton, Logo } from '../../ui';
import { CallLayer } from '../calls/CallLayer';
import { ChatView } from '../chat/ChatView';
import { ConnectionBanner } from '../connection/ConnectionBanner';
import { RoomLayer } from '../rooms/RoomLayer';
import { ConversationList } from '../conversations/ConversationList';
import { OptInBanner } from '../notifications/OptInBanner';
import { EmptyConversation } from './EmptyConversation';
import { ShellLayout } from './ShellLayout';
import { UserCard } from './UserCard';
import { useAppState } from '../services';

// Dialogs are loaded when first opened: they are not needed to show the app.
const NewChatDialog = lazy(() => import('../conversations/NewChatDialog'));
const NewGroupDialog = lazy(() => import('../conversations/NewGroupDialog'));
const AdminDialog = lazy(() => import('../admin/AdminDialog'));

/** The signed-in app: conversations on the left, the open one on the right (one at a time on a phone). */
export function Shell() {
  const serverName = useAppState(serverSelectors.name);
  const activeId = useAppState(conversationsSelectors.activeId);
  // A call on screen is modal: the app behind it is out of reach (focus, clicks, screen readers).
  const callShown = useAppState((s) => s.calls.phase !== 'idle' || s.rooms.session !== null);
  const [dialog, setDialog] = useState<'chat' | 'group' | 'admin' | null>(null);

  const sidebar = (
    <>
      <header className="flex items-center gap-2 pb-3 pl-5 pr-3 pt-[max(1.25rem,env(safe-area-inset-top))]">
        <Logo className="size-8 shrink-0" />
        <h1 className="ml-1 min-w-0 flex-1 truncate text-lg font-semibold tracking-tight text-slate-900 dark:text-white">
          {serverName}
        </h1>
        <IconButton label="New group" onClick={() => setDialog('group')}>
          <Users className="size-[18px]" aria-hidden />
        </IconButton>
        <IconButton label="New chat" onClick={() => setDialog('chat')}>
          <SquarePen className="size-[18px]" aria-hidden />
        </IconButton>
      </header>
      <ConversationList onNewChat={() => setDialog('chat')} />
      <OptInBanner />
      <div className="border-t border-slate-900/5 p-2 pb-[max(0.5rem,env(safe-area-inset-bottom))] dark:border-white/5">
        <UserCard onOpenAdmin={() => setDialog('admin')} />
      </div>
    </>
  );

  const main = activeId ? <ChatView key={activeId} conversationId={activeId} /> : <EmptyConversation />;

  return (
    <>
      <div inert={callShown} className="contents">
        <ShellLayout sidebar={sidebar} main={main} mainActive={activeId !== null} />
      </div>
      <ConnectionBanner />
      <CallLayer />
      <RoomLayer />
      <Suspense fallback={null}>
        {dialog === 'chat' && <NewChatDialog onClose={() => setDialog(null)} />}
        {dialog === 'group' && <NewGroupDialog onClose={() => setDialog(null)} />}
        {dialog === 'admin' && <AdminDialog onClose={() => setDialog(null)} />}
      </Suspense>
    </>
  );
}
