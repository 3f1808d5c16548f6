/**
 * The full emoji picker (frimousse, data from emojibase-data): a lazy chunk, loaded the
 * first time someone asks for more than the quick bar. Search, a keyboard-navigable grid
 * (arrows, Enter), categories; Escape closes.
 */
import { EmojiPicker as Picker } from 'frimousse';
import { useEffect, useRef } from 'react';
import { Spinner } from '../../ui';
import { resolveEmojiData } from './emojiData';

export default function EmojiPicker({ onPick, onClose }: { onPick(emoji: string): void; onClose(): void }) {
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => search.current?.focus({ preventScroll: true }), []);
  return (
    <Picker.Root
      className="isolate flex h-[20rem] w-[min(19rem,calc(100vw-2rem))] flex-col"
      columns={8}
      resolveEmojiData={resolveEmojiData}
      onEmojiSelect={({ emoji }) => onPick(emoji)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <Picker.Search
        ref={search}
        aria-label="Search emoji"
        placeholder="Search emoji"
        className="z-10 mx-2 mt-2 h-9 appearance-none rounded-xl bg-slate-900/5 px-3 text-sm text-slate-900 placeholder:text-slate-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-accent-500 dark:bg-white/10 dark:text-slate-100"
      />
      <Picker.Viewport className="relative flex-1 outline-hidden">
        <Picker.Loading className="absolute inset-0 grid place-items-center text-slate-500">
          <Spinner label="Loading emoji" />
        </Picker.Loading>
        <Picker.Empty className="absolute inset-0 grid place-items-center text-sm text-slate-500 dark:text-slate-400">
          No emoji found.
        </Picker.Empty>
        <Picker.List
          className="select-none pb-1.5"
          components={{
            CategoryHeader: ({ category, ...props }) => (
              <div
                className="bg-white/95 px-3 pb-1 pt-3 text-xs font-semibold text-slate-500 dark:bg-[rgb(15_20_38/0.96)] dark:text-slate-400"
                {...props}
              >
                {category.label}
              </div>
            ),
            Row: ({ children, ...props }) => (
              <div className="scroll-my-1.5 px-1.5" {...props}>
                {children}
              </div>
            ),
            Emoji: ({ emoji, ...props }) => (
              <button
                className="flex size-9 items-center justify-center rounded-lg text-xl data-[active]:bg-slate-900/8 dark:data-[active]:bg-white/12"
                {...props}
              >
                {emoji.emoji}
              </button>
            ),
          }}
        />
      </Picker.Viewport>
    </Picker.Root>
  );
}
