/**
 * The full-screen image viewer: one image of the conversation at a time, zoomed with the
 * wheel, a pinch, a double-click / double-tap or the buttons, panned by dragging when
 * zoomed, with previous / next through the conversation's images (arrows, swipe at 1×),
 * and a download link. Keyboard: Esc closes, ← → move, + − zoom, 0 fits.
 *
 * A modal <dialog> (showModal): the focus stays inside and the page behind is inert; focus
 * returns to the image that opened it when it closes. The current image is tracked by key,
 * so images arriving meanwhile do not move it.
 */
import { ChevronLeft, ChevronRight, Download, X, ZoomIn, ZoomOut } from 'lucide-react';
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { ConversationImage } from '../../stores';
import { cn } from '../../ui';
import { formatTime } from '../chat/format';
import { blurhashUrl } from './blurhash';
import { useZoomGestures } from './useZoomGestures';
import { fit, IDENTITY, STEP, transformOf, zoomAt, type Size, type View } from './zoom';

interface LightboxProps {
  images: ConversationImage[];
  startKey: string;
  nameOf(userId: string): string;
  onClose(): void;
}

/** From this scale on the original is loaded over the preview. */
const ORIGINAL_FROM = 1.5;

export function Lightbox({ images, startKey, nameOf, onClose }: LightboxProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const [key, setKey] = useState(startKey);
  const [view, setView] = useState<View>(IDENTITY);
  const [stage, setStage] = useState<Size>({ width: 0, height: 0 });
  const [originalLoaded, setOriginalLoaded] = useState<string | null>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  const found = images.findIndex((i) => i.attachment.key === key);
  const index = found < 0 ? 0 : found;
  const current = images[index];
  const a = current?.attachment;
  // At 1× a wide screen keeps a margin round the image (room for the arrows); a phone uses all of it.
  const margin = stage.width >= 640 ? { x: 72, y: 24 } : { x: 0, y: 0 };
  const room = { width: Math.max(0, stage.width - 2 * margin.x), height: Math.max(0, stage.height - 2 * margin.y) };
  const image = a ? fit({ width: a.width, height: a.height }, room) : { width: 0, height: 0 };

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal?.();
    return () => {
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, []);

  // The stage's size decides the fitted image size (window resize, phone rotation).
  useLayoutEffect(() => {
    const el = stageRef.current;
    if (!el) return;
    const measure = () => setStage({ width: el.clientWidth, height: el.clientHeight });
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const go = (step: -1 | 1) => {
    const next = images[index + step];
    if (!next) return;
    setKey(next.attachment.key);
    setView(IDENTITY);
  };
  const zoomBy = (factor: number) => setView((v) => zoomAt(v, factor, { x: 0, y: 0 }, image, stage));
  const gestures = useZoomGestures({ stage: stageRef, view, setView, image, stageSize: stage, onSwipe: go });

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowLeft') go(-1);
    else if (e.key === 'ArrowRight') go(1);
    else if (e.key === '+' || e.key === '=') zoomBy(STEP);
    else if (e.key === '-' || e.key === '_') zoomBy(1 / STEP);
    else if (e.key === '0') setView(IDENTITY);
    else return;
    e.preventDefault();
  };

  if (!current || !a) return null;
  const placeholder = blurhashUrl(a.blurhash, a.width, a.height);
  const wantOriginal = view.scale >= ORIGINAL_FROM && a.url !== a.preview;
  const caption = `${nameOf(current.senderId)}, ${formatTime(current.createdAt)}`;

  return (
    <dialog
      ref={ref}
      aria-label={`Image ${index + 1} of ${images.length}, from ${caption}`}
      onCancel={(e) => {
        e.preventDefault();
        onCloseRef.current();
      }}
      onKeyDown={onKeyDown}
      className="m-0 h-dvh max-h-none w-screen max-w-none bg-slate-950 p-0 text-white backdrop:bg-slate-950"
    >
      <div className="flex h-full flex-col">
        <header className="flex items-center gap-1 px-2 pt-[max(0.5rem,env(safe-area-inset-top))] pb-1 sm:px-4">
          <p className="min-w-0 flex-1 truncate px-2 text-sm text-white/80">
            <span className="font-semibold text-white">{nameOf(current.senderId)}</span>
            <span className="ml-2 tabular-nums">{formatTime(current.createdAt)}</span>
            <span className="ml-2 tabular-nums text-white/60">
              {index + 1} / {images.length}
            </span>
          </p>
          <ToolButton label="Zoom out" onClick={() => zoomBy(1 / STEP)} disabled={view.scale <= 1}>
            <ZoomOut className="size-5" aria-hidden />
          </ToolButton>
          <ToolButton label="Zoom in" onClick={() => zoomBy(STEP)}>
            <ZoomIn className="size-5" aria-hidden />
          </ToolButton>
          <a
            href={a.url}
            download={downloadName(a.id ?? a.key, a.mime)}
            aria-label="Download image"
            title="Download"
            className="grid size-11 place-items-center rounded-full text-white/90 hover:bg-white/10 focus-visible:outline-2 focus-visible:outline-white"
          >
            <Download className="size-5" aria-hidden />
          </a>
          <ToolButton label="Close" onClick={() => onCloseRef.current()}>
            <X className="size-6" aria-hidden />
          </ToolButton>
        </header>

        <div
          ref={stageRef}
          data-testid="lightbox-stage"
          // The dialog opens with the focus here, so the keys work at once and no button shows a ring.
          tabIndex={-1}
          autoFocus
          className={cn('relative flex-1 touch-none select-none overflow-hidden outline-none', view.scale > 1 ? 'cursor-grab active:cursor-grabbing' : 'cursor-zoom-in')}
          {...gestures}
        >
          <div
            data-testid="lightbox-image"
            className="absolute left-1/2 top-1/2 bg-cover bg-center will-change-transform"
            style={{
              width: image.width,
              height: image.height,
              marginLeft: -image.width / 2,
              marginTop: -image.height / 2,
              transform: transformOf(view),
              backgroundImage: placeholder ? `url(${placeholder})` : undefined,
            }}
          >
            <img src={a.preview} alt="" draggable={false} className="absolute inset-0 size-full object-contain" />
            {wantOriginal && (
              <img
                src={a.url}
                alt=""
                draggable={false}
                onLoad={() => setOriginalLoaded(a.key)}
                className={cn('absolute inset-0 size-full object-contain', originalLoaded === a.key ? 'opacity-100' : 'opacity-0')}
              />
            )}
          </div>
          {index > 0 && (
            <NavButton label="Previous image" side="left" onClick={() => go(-1)}>
              <ChevronLeft className="size-7" aria-hidden />
            </NavButton>
          )}
          {index < images.length - 1 && (
            <NavButton label="Next image" side="right" onClick={() => go(1)}>
              <ChevronRight className="size-7" aria-hidden />
            </NavButton>
          )}
        </div>
        <p className="sr-only" aria-live="polite">
          {view.scale > 1 ? `Zoomed to ${Math.round(view.scale * 100)}%` : ''}
        </p>
      </div>
    </dialog>
  );
}

function ToolButton({ label, onClick, disabled, children }: { label: string; onClick(): void; disabled?: boolean; children: ReactNode }) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      onClick={onClick}
      disabled={disabled}
      className="grid size-11 place-items-center rounded-full text-white/90 hover:bg-white/10 focus-visible:outline-2 focus-visible:outline-white disabled:opacity-40"
    >
      {children}
    </button>
  );
}

function NavButton({ label, side, onClick, children }: { label: string; side: 'left' | 'right'; onClick(): void; children: ReactNode }) {
  return (
    <button
      type="button"
      aria-label={label}
      onClick={onClick}
      onPointerDown={(e) => e.stopPropagation()}
      onDoubleClick={(e) => e.stopPropagation()}
      className={cn(
        'absolute top-1/2 grid size-11 -translate-y-1/2 place-items-center rounded-full bg-black/40 text-white hover:bg-black/60 focus-visible:outline-2 focus-visible:outline-white',
        side === 'left' ? 'left-2 sm:left-4' : 'right-2 sm:right-4',
      )}
    >
      {children}
    </button>
  );
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif' };

export function downloadName(id: string, mime: string): string {
  return `nexus-${id.slice(0, 8)}.${EXT[mime] ?? 'img'}`;
}
