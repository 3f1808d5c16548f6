import { X } from 'lucide-react';
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { IconButton } from './Button';
import { cn } from './cn';

interface DialogProps {
  title: string;
  description?: string;
  onClose(): void;
  children: ReactNode;
  className?: string;
}

/**
 * A modal dialog on the native <dialog> element: showModal() gives the focus trap, the
 * inert page behind, Escape to close and the top layer for free. Clicking the backdrop
 * closes it too. Focus returns to where it was when it closes.
 */
export function Dialog({ title, description, onClose, children, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      aria-labelledby={`${id}-title`}
      aria-describedby={description ? `${id}-desc` : undefined}
      onClose={() => onCloseRef.current()}
      onClick={(e) => {
        if (e.target === ref.current) ref.current.close();
      }}
      className={cn(
        'nexus-dialog glass m-auto w-[min(28rem,calc(100vw-1.5rem))] max-h-[min(40rem,calc(100dvh-2rem))] overflow-hidden rounded-3xl p-0',
        // More opaque than a panel: what is behind a modal should not read through it.
        'bg-white/85 dark:bg-slate-900/85',
        'text-slate-900 dark:text-slate-100',
        className,
      )}
    >
      <div className="flex max-h-[inherit] flex-col p-5 sm:p-6">
        <header className="mb-4 flex items-start gap-3">
          <div className="min-w-0 flex-1">
            <h2 id={`${id}-title`} className="text-lg font-semibold tracking-tight text-slate-900 dark:text-white">
              {title}
            </h2>
            {description && (
              <p id={`${id}-desc`} className="mt-0.5 text-sm text-slate-600 dark:text-slate-400">
                {description}
              </p>
            )}
          </div>
          <IconButton label="Close" onClick={() => ref.current?.close()} className="-mr-1 -mt-1">
            <X className="size-5" aria-hidden />
          </IconButton>
        </header>
        {children}
      </div>
    </dialog>
  );
}
