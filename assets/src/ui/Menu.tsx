import { AnimatePresence, m } from 'framer-motion';
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { cn } from './cn';

export interface MenuItem {
  id: string;
  label: string;
  /** A second line, read as part of the item's description. */
  description?: string;
  icon?: ReactNode;
  tone?: 'default' | 'danger';
  /** A setting that is on or off: a `menuitemcheckbox` with a tick when on. */
  checked?: boolean;
  /** A thin line above it, to group items. */
  separated?: boolean;
  onSelect(): void;
}

interface MenuProps {
  /** The trigger's accessible name, e.g. "Account menu". */
  label: string;
  items: MenuItem[];
  /** What the trigger button shows. */
  children: ReactNode;
  triggerClassName?: string;
  /** Open above the trigger (for menus at the bottom of a panel) or below it. */
  placement?: 'top' | 'bottom';
  className?: string;
}

/**
 * A menu button (WAI-ARIA "menu button" pattern): Enter, Space or arrows open it and focus
 * an item; arrows, Home and End move; Escape closes and returns focus; Tab or a click
 * outside closes.
 */
export function Menu({ label, items, children, triggerClassName, placement = 'bottom', className }: MenuProps) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const rootRef = useRef<HTMLDivElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const itemRefs = useRef<Array<HTMLButtonElement | null>>([]);
  const menuId = useId();
  const triggerId = `${menuId}-trigger`;

  const openAt = (index: number) => {
    setActive((index + items.length) % items.length);
    setOpen(true);
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) triggerRef.current?.focus();
  };

  useEffect(() => {
    if (open) itemRefs.current[active]?.focus();
  }, [open, active]);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (e: PointerEvent) => {
      if (!rootRef.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  const onTriggerKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      openAt(0);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      openAt(items.length - 1);
    }
  };

  const onMenuKeyDown = (e: KeyboardEvent) => {
    const moves: Record<string, number> = {
      ArrowDown: active + 1,
      ArrowUp: active - 1,
      Home: 0,
      End: items.length - 1,
    };
    const next = moves[e.key];
    if (next !== undefined) {
      e.preventDefault();
      setActive((next + items.length) % items.length);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close(true);
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  };

  const fromTop = placement === 'top';

  return (
    <div ref={rootRef} className={cn('relative', className)}>
      <button
        ref={triggerRef}
        id={triggerId}
        type="button"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close(false) : openAt(0))}
        onKeyDown={onTriggerKeyDown}
        className={triggerClassName}
      >
        {children}
      </button>
      <AnimatePresence>
        {open && (
          <m.div
            id={menuId}
            role="menu"
            aria-labelledby={triggerId}
            onKeyDown={onMenuKeyDown}
            initial={{ opacity: 0, scale: 0.96, y: fromTop ? 6 : -6 }}
            animate={{ opacity: 1, scale: 1, y: 0, transition: { type: 'spring', stiffness: 520, damping: 36 } }}
            exit={{ opacity: 0, scale: 0.97, transition: { duration: 0.12 } }}
            className={cn(
              // Nearly opaque: a menu sits over text, and a blur inside a glass panel is not always drawn.
              'glass absolute right-0 z-50 min-w-64 rounded-2xl bg-white/95 p-1.5 outline-none dark:bg-[rgb(15_20_38/0.96)]',
              fromTop ? 'bottom-full mb-2 origin-bottom-right' : 'top-full mt-2 origin-top-right',
            )}
          >
            {items.map((item, i) => (
              <button
                key={item.id}
                ref={(el) => {
                  itemRefs.current[i] = el;
                }}
                type="button"
                role={item.checked === undefined ? 'menuitem' : 'menuitemcheckbox'}
                aria-checked={item.checked}
                tabIndex={-1}
                aria-labelledby={`${menuId}-${i}-label`}
                aria-describedby={item.description ? `${menuId}-${i}-desc` : undefined}
                onMouseEnter={() => setActive(i)}
                onClick={() => {
                  close(true);
                  item.onSelect();
                }}
                className={cn(
                  'flex w-full items-start gap-3 rounded-xl px-3 py-2.5 text-left text-sm outline-none',
                  item.separated && i > 0 && 'mt-1.5 shadow-[0_-1px_0_0_rgb(15_23_42/0.06)] dark:shadow-[0_-1px_0_0_rgb(255_255_255/0.08)]',
                  'focus-visible:outline-none focus:bg-slate-900/6 dark:focus:bg-white/10',
                  item.tone === 'danger' ? 'text-rose-600 dark:text-rose-300' : 'text-slate-800 dark:text-slate-100',
                )}
              >
                {item.icon && <span className="mt-0.5 shrink-0 opacity-80">{item.icon}</span>}
                <span className="flex min-w-0 flex-1 flex-col">
                  <span id={`${menuId}-${i}-label`} className="font-medium">
                    {item.label}
                  </span>
                  {item.description && (
                    <span id={`${menuId}-${i}-desc`} className="text-xs font-normal text-slate-500 dark:text-slate-400">
                      {item.description}
                    </span>
                  )}
                </span>
                {item.checked !== undefined && (
                  <span
                    aria-hidden="true"
                    className={cn(
                      'mt-0.5 grid size-5 shrink-0 place-items-center rounded-full text-[11px] font-bold',
                      item.checked ? 'bg-accent-500 text-white' : 'ring-1 ring-slate-900/15 dark:ring-white/20',
                    )}
                  >
                    {item.checked ? '✓' : ''}
                  </span>
                )}
              </button>
            ))}
          </m.div>
        )}
      </AnimatePresence>
    </div>
  );
}
