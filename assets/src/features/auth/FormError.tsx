import { CircleAlert } from 'lucide-react';

/** The form-level error, inside an always-present live region so it is announced. */
export function FormError({ message }: { message: string | null }) {
  return (
    <div aria-live="assertive" aria-atomic="true">
      {message && (
        <p
          role="alert"
          className="flex items-start gap-2.5 rounded-xl border border-rose-300/60 bg-rose-50/80 px-3.5 py-3 text-sm text-rose-700 dark:border-rose-400/25 dark:bg-rose-500/10 dark:text-rose-200"
        >
          <CircleAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
          <span>{message}</span>
        </p>
      )}
    </div>
  );
}
