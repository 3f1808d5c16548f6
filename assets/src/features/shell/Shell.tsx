import { serverSelectors, useAppStore } from '../../stores';
import { Logo } from '../../ui';
import { ConversationListPlaceholder } from './ConversationListPlaceholder';
import { EmptyConversation } from './EmptyConversation';
import { ShellLayout } from './ShellLayout';
import { UserCard } from './UserCard';

/** The signed-in app. */
export function Shell() {
  const serverName = useAppStore(serverSelectors.name);

  const sidebar = (
    <>
      <header className="flex items-center gap-3 px-5 pb-4 pt-[max(1.25rem,env(safe-area-inset-top))]">
        <Logo className="size-8" />
        <h1 className="truncate text-lg font-semibold tracking-tight text-slate-900 dark:text-white">{serverName}</h1>
      </header>
      <ConversationListPlaceholder />
      <div className="border-t border-slate-900/5 p-2 pb-[max(0.5rem,env(safe-area-inset-bottom))] dark:border-white/5">
        <UserCard />
      </div>
    </>
  );

  return <ShellLayout sidebar={sidebar} main={<EmptyConversation />} mainActive={false} />;
}
