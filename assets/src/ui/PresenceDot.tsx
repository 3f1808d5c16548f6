import { cn } from './cn';

/** A green dot on an avatar's corner for someone online. Decorative: say "online" in text too. */
export function PresenceDot({ online, className }: { online: boolean; className?: string }) {
  if (!online) return null;
  return (
    <span
      aria-hidden="true"
      className={cn(
        'absolute bottom-0 right-0 size-3 rounded-full bg-emerald-500 ring-2 ring-white dark:ring-slate-900',
        className,
      )}
    />
  );
}
