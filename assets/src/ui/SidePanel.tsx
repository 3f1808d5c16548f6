import { X } from 'lucide-react';
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { IconButton } from './Button';
import { cn } from './cn';

/**
 * A panel over the right of the chat (the whole width on a phone): a titled region with a
 * close button; Escape closes it and focus goes back where it was.
 */
export function SidePanel({ title, onClose, children, className }: { title: string; onClose(): void; children: ReactNode; className?: string }) {
  const id = useId();
  const ref = useRef<HTMLElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const el = ref.current;
    const first = el?.querySelector<HTMLElement>('input, button:not([aria-label="Close panel"]), [tabindex="0"]');
    (first ?? el)?.focus({ preventScroll: true });
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented && el?.contains(document.activeElement)) {
        e.preventDefault();
        onCloseRef.current();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus({ preventScroll: true });
    };
  }, []);
  return (
    <aside
      ref={ref}
      tabIndex={-1}
      aria-labelledby={`${id}-title`}
      className={cn(
        'absolute inset-y-0 right-0 z-30 flex w-full flex-col bg-white shadow-[-12px_0_40px_-20px_rgb(30_41_80/0.35)] outline-none sm:w-[24rem] sm:rounded-r-[inherit] sm:border-l sm:border-slate-900/8 dark:bg-[rgb(15_20_38)] dark:sm:border-white/10',
        className,
      )}
    >
      <header className="flex items-center gap-2 border-b border-slate-900/5 px-4 pb-3 pt-[max(0.75rem,env(safe-area-inset-top))] dark:border-white/8">
        <h2 id={`${id}-title`} className="flex-1 text-base font-semibold tracking-tight text-slate-900 dark:text-white">
          {title}
        </h2>
        <IconButton label="Close panel" onClick={onClose}>
          <X className="size-5" aria-hidden />
        </IconButton>
      </header>
      {children}
    </aside>
  );
}
