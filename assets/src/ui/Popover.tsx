import { m } from 'framer-motion';
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import { createPortal } from 'react-dom';
import { cn } from './cn';

interface PopoverProps {
  /** What it opens from: it is placed above it (below when there is no room), kept on screen. */
  anchor: RefObject<HTMLElement | null>;
  /** Its accessible name (a `dialog` role unless `role` says otherwise). */
  label: string;
  role?: 'dialog' | 'menu';
  onClose(): void;
  children: ReactNode;
  className?: string;
  /** Line its right edge up with the anchor's (its left edge otherwise). */
  alignEnd?: boolean;
}

const GAP = 6;
const MARGIN = 8;

/**
 * A small floating panel in a portal (so a scrolling list does not clip it), fixed beside
 * its anchor. Escape or a press outside closes it, and focus goes back to the anchor.
 */
export function Popover({ anchor, label, role = 'dialog', onClose, children, className, alignEnd = false }: PopoverProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useLayoutEffect(() => {
    const place = () => {
      const a = anchor.current?.getBoundingClientRect();
      const el = ref.current;
      if (!a || !el) return;
      const w = el.offsetWidth;
      const h = el.offsetHeight;
      const above = a.top - GAP - h;
      const top = above >= MARGIN ? above : Math.min(a.bottom + GAP, window.innerHeight - h - MARGIN);
      const left = alignEnd ? a.right - w : a.left;
      setPos({ top: Math.max(MARGIN, top), left: Math.min(Math.max(MARGIN, left), window.innerWidth - w - MARGIN) });
    };
    place();
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(place) : null;
    if (ref.current) ro?.observe(ref.current);
    window.addEventListener('resize', place);
    return () => {
      ro?.disconnect();
      window.removeEventListener('resize', place);
    };
  }, [anchor, alignEnd]);

  useEffect(() => {
    const trigger = anchor.current;
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!ref.current?.contains(t) && !trigger?.contains(t)) onCloseRef.current();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        onCloseRef.current();
      }
    };
    document.addEventListener('pointerdown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onDown);
      document.removeEventListener('keydown', onKey);
      if (trigger && document.activeElement && ref.current?.contains(document.activeElement)) trigger.focus({ preventScroll: true });
    };
  }, [anchor]);

  return createPortal(
    <m.div
      ref={ref}
      role={role}
      aria-label={label}
      initial={{ opacity: 0, scale: 0.97 }}
      animate={{ opacity: 1, scale: 1, transition: { duration: 0.14 } }}
      style={{ position: 'fixed', top: pos?.top ?? -9999, left: pos?.left ?? -9999, visibility: pos ? 'visible' : 'hidden' }}
      className={cn(
        'glass z-50 rounded-2xl bg-white p-1.5 text-slate-900 shadow-lg outline-none dark:bg-[rgb(15_20_38)] dark:text-slate-100',
        className,
      )}
    >
      {children}
    </m.div>,
    document.body,
  );
}
