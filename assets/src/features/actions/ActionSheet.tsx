import { useState } from 'react';
import type { ChatMessage } from '../../stores';
import { Dialog } from '../../ui';
import { LazyEmojiPicker } from '../reactions/ReactionPicker';
import { QuickReactions } from '../reactions/QuickReactions';
import { snippetOf } from '../replies/reply';
import { ActionList } from './ActionList';
import type { ConversationActions } from './context';
import { actionItems } from './items';
import { messageActions } from './permissions';

/** Every action of one message after a long press (touch): the quick reactions, then the menu. */
export default function ActionSheet({ m, actions, onClose }: { m: ChatMessage; actions: ConversationActions; onClose(): void }) {
  const [full, setFull] = useState(false);
  const allowed = messageActions(m, actions.conversation, actions.myId);
  const mine = new Set(m.reactions.filter((r) => actions.myId && r.user_ids.includes(actions.myId)).map((r) => r.emoji));
  const pick = (e: string) => {
    onClose();
    actions.react(m, e);
  };
  const who = m.sender_id === actions.myId ? 'your message' : `${actions.nameOf(m.sender_id)}’s message`;
  return (
    <Dialog title="Message" description={`${snippetOf(m.body) || 'Images'} — ${who}`} onClose={onClose} className="bg-white! dark:bg-slate-900! max-sm:mb-0 max-sm:mt-auto max-sm:w-screen max-sm:max-w-none max-sm:rounded-b-none max-sm:pb-[env(safe-area-inset-bottom)]">
      {allowed.react && (
        <div className="-mx-1 mb-3 flex justify-center">
          {full ? <LazyEmojiPicker onPick={pick} onClose={() => setFull(false)} /> : <QuickReactions mine={mine} onPick={pick} onMore={() => setFull(true)} />}
        </div>
      )}
      <ActionList items={actionItems(m, allowed, actions)} onDone={onClose} autoFocus={false} large />
    </Dialog>
  );
}
