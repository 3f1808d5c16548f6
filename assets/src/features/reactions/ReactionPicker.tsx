import { lazy, Suspense, useState, type RefObject } from 'react';
import { Popover, Spinner } from '../../ui';
import { QuickReactions } from './QuickReactions';

const EmojiPicker = lazy(() => import('./EmojiPicker'));

/** The full picker, loaded on first use. */
export function LazyEmojiPicker({ onPick, onClose }: { onPick(emoji: string): void; onClose(): void }) {
  return (
    <Suspense
      fallback={
        <div className="grid h-[20rem] w-[min(19rem,calc(100vw-2rem))] place-items-center text-slate-500">
          <Spinner label="Loading emoji" />
        </div>
      }
    >
      <EmojiPicker onPick={onPick} onClose={onClose} />
    </Suspense>
  );
}

/** A popover with the quick bar; "more" swaps in the full picker. Picking closes it. */
export function ReactionPicker({
  anchor,
  mine,
  onPick,
  onClose,
  alignEnd,
}: {
  anchor: RefObject<HTMLElement | null>;
  mine: ReadonlySet<string>;
  onPick(emoji: string): void;
  onClose(): void;
  alignEnd?: boolean;
}) {
  const [full, setFull] = useState(false);
  const pick = (e: string) => {
    onPick(e);
    onClose();
  };
  return (
    <Popover anchor={anchor} label="Add a reaction" onClose={onClose} alignEnd={alignEnd} className={full ? 'p-0' : 'rounded-full'}>
      {full ? <LazyEmojiPicker onPick={pick} onClose={onClose} /> : <QuickReactions mine={mine} onPick={pick} onMore={() => setFull(true)} />}
    </Popover>
  );
}
