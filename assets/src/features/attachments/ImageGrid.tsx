/**
 * The images of one message bubble, laid out from their sizes before they load (layout.ts),
 * each over its blurhash placeholder. A click opens the lightbox at that image. An own
 * image still uploading shows its progress.
 */
import { memo, useState } from 'react';
import type { ChatAttachment } from '../../stores';
import { uploadsSelectors } from '../../stores';
import { cn } from '../../ui';
import { useAppState } from '../services';
import { blurhashUrl } from './blurhash';
import { gridCells, singleSize, GRID_WIDTH } from './layout';

interface ImageGridProps {
  images: ChatAttachment[];
  onOpen(key: string): void;
  /** Own pending message: show upload progress. */
  pending: boolean;
}

export const ImageGrid = memo(function ImageGrid({ images, onOpen, pending }: ImageGridProps) {
  if (images.length === 1) {
    const a = images[0]!;
    const size = singleSize(a.width, a.height);
    return (
      <div className="overflow-hidden rounded-[1rem]" style={{ width: size.width, height: size.height, maxWidth: '100%' }}>
        <Tile a={a} src={a.preview} label="Open image" onOpen={onOpen} pending={pending} />
      </div>
    );
  }
  const cells = gridCells(images.length);
  return (
    <div className="grid grid-cols-2 gap-0.5 overflow-hidden rounded-[1rem]" style={{ width: GRID_WIDTH, maxWidth: '100%' }}>
      {images.map((a, i) => (
        <div key={a.key} className={cn(cells[i]!.span === 2 && 'col-span-2')} style={{ aspectRatio: `${cells[i]!.width} / ${cells[i]!.height}` }}>
          <Tile a={a} src={a.thumbnail} label={`Open image ${i + 1} of ${images.length}`} onOpen={onOpen} pending={pending} />
        </div>
      ))}
    </div>
  );
});

function Tile({ a, src, label, onOpen, pending }: { a: ChatAttachment; src: string; label: string; onOpen(key: string): void; pending: boolean }) {
  const [loaded, setLoaded] = useState(false);
  const placeholder = blurhashUrl(a.blurhash, a.width, a.height);
  return (
    <button
      type="button"
      aria-label={label}
      data-testid="attachment"
      onClick={() => onOpen(a.key)}
      className="relative block size-full overflow-hidden bg-slate-200 bg-cover bg-center dark:bg-white/10"
      style={placeholder ? { backgroundImage: `url(${placeholder})` } : undefined}
    >
      <img
        src={src}
        alt=""
        draggable={false}
        loading="lazy"
        decoding="async"
        onLoad={() => setLoaded(true)}
        className={cn('size-full object-cover transition-opacity duration-200', loaded ? 'opacity-100' : 'opacity-0')}
      />
      {pending && <UploadProgress uploadKey={a.key} />}
    </button>
  );
}

function UploadProgress({ uploadKey }: { uploadKey: string }) {
  const progress = useAppState((s) => uploadsSelectors.progress(s, uploadKey));
  if (progress === null) return null;
  const pct = Math.round(progress * 100);
  return (
    <span className="absolute inset-x-2 top-2 h-1.5 overflow-hidden rounded-full bg-black/35" role="progressbar" aria-label="Uploading" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <span className="block h-full rounded-full bg-white transition-[width] duration-150" style={{ width: `${pct}%` }} />
    </span>
  );
}
