import { AnimatePresence, m } from 'framer-motion';
import type { ReactNode } from 'react';
import { GlassPanel, useMediaQuery } from '../../ui';
import { panelIn } from '../../ui/motion';

interface ShellLayoutProps {
  /** The left pane: conversation list and the user's card. */
  sidebar: ReactNode;
  /** The right pane: the open conversation, or an empty state. */
  main: ReactNode;
  /**
   * On narrow screens only one pane fits: true shows `main` (a conversation is open),
   * false shows the list. Wide screens always show both.
   */
  mainActive: boolean;
}

const TWO_PANES = '(min-width: 768px)';

/**
 * The signed-in frame. Two glass panes side by side from 768 px; below that, two screens
 * that slide over each other. Messaging plugs in through `sidebar`, `main` and `mainActive`.
 */
export function ShellLayout({ sidebar, main, mainActive }: ShellLayoutProps) {
  const wide = useMediaQuery(TWO_PANES);

  if (wide) {
    return (
      <m.div
        className="flex h-dvh gap-4 p-4 lg:gap-5 lg:p-5"
        variants={panelIn}
        initial="hidden"
        animate="shown"
        exit="gone"
      >
        <GlassPanel as="aside" aria-label="Sidebar" className="flex w-80 shrink-0 flex-col lg:w-96">
          {sidebar}
        </GlassPanel>
        <GlassPanel as="main" className="flex min-w-0 flex-1 flex-col">
          {main}
        </GlassPanel>
      </m.div>
    );
  }

  return (
    <m.div className="relative h-dvh overflow-hidden" variants={panelIn} initial="hidden" animate="shown" exit="gone">
      <AnimatePresence initial={false} mode="popLayout">
        {mainActive ? (
          <m.div
            key="main"
            className="absolute inset-0"
            initial={{ x: '100%' }}
            animate={{ x: 0 }}
            exit={{ x: '100%' }}
            transition={{ type: 'spring', stiffness: 380, damping: 38 }}
          >
            <GlassPanel as="main" className="flex h-full flex-col rounded-none border-0">
              {main}
            </GlassPanel>
          </m.div>
        ) : (
          <m.div
            key="list"
            className="absolute inset-0"
            initial={{ x: '-30%', opacity: 0 }}
            animate={{ x: 0, opacity: 1 }}
            exit={{ x: '-30%', opacity: 0 }}
            transition={{ type: 'spring', stiffness: 380, damping: 38 }}
          >
            <GlassPanel as="aside" aria-label="Sidebar" className="flex h-full flex-col rounded-none border-0">
              {sidebar}
            </GlassPanel>
          </m.div>
        )}
      </AnimatePresence>
    </m.div>
  );
}
