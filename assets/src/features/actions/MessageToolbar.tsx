import { CornerUpLeft, MoreHorizontal, SmilePlus } from 'lucide-react';
import { useRef, useState } from 'react';
import type { ChatMessage } from '../../stores';
import { cn, Popover } from '../../ui';
import { ReactionPicker } from '../reactions/ReactionPicker';
import { ActionList } from './ActionList';
import type { ConversationActions } from './context';
import { actionItems } from './items';
import type { MessageActions } from './permissions';

const button =
  'grid size-8 place-items-center rounded-full text-slate-600 hover:bg-slate-900/6 hover:text-slate-900 aria-expanded:bg-slate-900/6 dark:text-slate-300 dark:hover:bg-white/10 dark:hover:text-white';

/**
 * The hover menu of a bubble (pointer devices): react, reply, more. It shows while the
 * pointer is over the message or focus is inside it, so it is reachable by Tab too.
 */
export function MessageToolbar({ m, own, allowed, actions, open, onOpenChange }: {
  m: ChatMessage;
  own: boolean;
  allowed: MessageActions;
  actions: ConversationActions;
  /** Keeps the bar shown while one of its popovers is open. */
  open: boolean;
  onOpenChange(open: boolean): void;
}) {
  const reactRef = useRef<HTMLButtonElement>(null);
  const moreRef = useRef<HTMLButtonElement>(null);
  const [which, setWhich] = useState<'react' | 'more' | null>(null);
  const show = (w: 'react' | 'more' | null) => {
    setWhich(w);
    onOpenChange(w !== null);
  };
  const mine = new Set(m.reactions.filter((r) => actions.myId && r.user_ids.includes(actions.myId)).map((r) => r.emoji));
  const items = actionItems(m, allowed, actions);

  return (
    <div
      role="toolbar"
      aria-label="Message actions"
      data-testid="message-toolbar"
      className={cn(
        'glass absolute -top-4 z-10 hidden items-center gap-0.5 rounded-full bg-white/90 p-0.5 shadow-md dark:bg-slate-900/90',
        '[@media(hover:hover)]:flex',
        own ? 'right-full mr-1' : 'left-full ml-1',
        open ? 'opacity-100' : 'pointer-events-none opacity-0 group-hover/bubble:pointer-events-auto group-hover/bubble:opacity-100 group-focus-within/bubble:pointer-events-auto group-focus-within/bubble:opacity-100',
      )}
    >
      {allowed.react && (
        <button ref={reactRef} type="button" aria-label="React" title="React" aria-expanded={which === 'react'} className={button} onClick={() => show(which === 'react' ? null : 'react')}>
          <SmilePlus className="size-[18px]" aria-hidden />
        </button>
      )}
      {allowed.reply && (
        <button type="button" aria-label="Reply" title="Reply" className={button} onClick={() => actions.reply(m)}>
          <CornerUpLeft className="size-[18px]" aria-hidden />
        </button>
      )}
      {items.length > 0 && (
        <button ref={moreRef} type="button" aria-label="More actions" title="More" aria-haspopup="menu" aria-expanded={which === 'more'} className={button} onClick={() => show(which === 'more' ? null : 'more')}>
          <MoreHorizontal className="size-[18px]" aria-hidden />
        </button>
      )}
      {which === 'react' && <ReactionPicker anchor={reactRef} mine={mine} onPick={(e) => actions.react(m, e)} onClose={() => show(null)} alignEnd={own} />}
      {which === 'more' && (
        <Popover anchor={moreRef} label="Message actions" role="menu" onClose={() => show(null)} alignEnd={own}>
          <ActionList items={items} onDone={() => show(null)} />
        </Popover>
      )}
    </div>
  );
}
