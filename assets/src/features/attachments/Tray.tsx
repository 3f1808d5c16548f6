/**
 * The images waiting in the composer: a small preview of each, its upload's progress bar,
 * a button that cancels (while uploading) or removes it, and the reason when it failed.
 */
import { AlertCircle, Check, X } from 'lucide-react';
import { uploadErrorText } from '../../api';
import { fraction, type Upload } from '../../stores';
import { cn } from '../../ui';

interface TrayProps {
  uploads: Upload[];
  onRemove(id: string): void;
}

export function Tray({ uploads, onRemove }: TrayProps) {
  if (!uploads.length) return null;
  const failed = uploads.filter((u) => u.status === 'failed');
  return (
    <div className="px-2 pt-2">
      <ul aria-label="Images to send" className="flex gap-2 overflow-x-auto pb-1">
        {uploads.map((u) => (
          <TrayItem key={u.id} upload={u} onRemove={onRemove} />
        ))}
      </ul>
      {failed.length > 0 && (
        <ul role="alert" className="space-y-0.5 px-1 pb-1 text-xs text-rose-600 dark:text-rose-300">
          {failed.map((u) => (
            <li key={u.id} className="truncate">
              <span className="font-semibold">{u.name}</span>: {uploadErrorText(u.error ?? '')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function TrayItem({ upload: u, onRemove }: { upload: Upload; onRemove(id: string): void }) {
  const pct = Math.round(fraction(u) * 100);
  const label = u.status === 'uploading' ? `Cancel upload of ${u.name}` : `Remove ${u.name}`;
  return (
    <li
      data-testid="tray-item"
      data-status={u.status}
      className={cn(
        'relative size-16 shrink-0 overflow-hidden rounded-xl bg-slate-200 ring-1 ring-slate-900/10 dark:bg-white/10 dark:ring-white/10',
        u.status === 'failed' && 'ring-2 ring-rose-500',
      )}
    >
      {u.status !== 'failed' || u.width > 0 ? (
        <img src={u.localUrl} alt={u.name} className={cn('size-full object-cover', u.status === 'failed' && 'opacity-40')} />
      ) : (
        <span className="sr-only">{u.name}</span>
      )}
      {u.status === 'failed' && (
        <AlertCircle className="absolute left-1/2 top-1/2 size-6 -translate-1/2 text-rose-600 dark:text-rose-300" aria-hidden />
      )}
      {u.status === 'uploading' && (
        <span
          role="progressbar"
          aria-label={`Uploading ${u.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
          className="absolute inset-x-1.5 bottom-1.5 h-1.5 overflow-hidden rounded-full bg-black/40"
        >
          <span className="block h-full rounded-full bg-white transition-[width] duration-150" style={{ width: `${pct}%` }} />
        </span>
      )}
      {u.status === 'done' && (
        <span className="absolute bottom-1 left-1 grid size-4 place-items-center rounded-full bg-emerald-500 text-white" aria-label="Uploaded" role="img">
          <Check className="size-3" aria-hidden />
        </span>
      )}
      <button
        type="button"
        aria-label={label}
        title={label}
        onClick={() => onRemove(u.id)}
        className="absolute right-0.5 top-0.5 grid size-6 place-items-center rounded-full bg-black/55 text-white hover:bg-black/75"
      >
        <X className="size-3.5" aria-hidden />
      </button>
    </li>
  );
}
