import { m } from 'framer-motion';
import { MicOff, MonitorUp, VideoOff } from 'lucide-react';
import { useEffect, useRef, type CSSProperties } from 'react';
import { Avatar, avatarName, cn } from '../../ui';
import { useServices } from '../services';
import type { Tile } from './tiles';

/** Shows a stream in a media element, and keeps it playing when the stream changes. */
export function useStreamIn(ref: { current: HTMLMediaElement | null }, stream: MediaStream | null) {
  useEffect(() => {
    const el = ref.current;
    if (!el || el.srcObject === stream) return;
    el.srcObject = stream;
    if (stream) el.play?.()?.catch?.(() => undefined);
  });
}

/** Three bars that bounce while someone speaks (still with reduced motion). */
function SpeakingBars() {
  return (
    <span className="flex h-3 items-end gap-[2px]" aria-hidden="true" data-testid="speaking">
      {[0, 1, 2].map((i) => (
        <span
          key={i}
          className="speaking-bar w-[3px] origin-bottom rounded-full bg-emerald-400"
          style={{ height: `${[60, 100, 75][i]}%`, animationDelay: `${i * 0.15}s` }}
        />
      ))}
    </span>
  );
}

/**
 * One person's camera (or screen) in the call: the video, or their avatar when it is off;
 * the name with mute / camera-off badges; the speaking bars and the active-speaker ring.
 * A remote video reports the size it is shown at (for the simulcast layer the server picks).
 */
export function RoomTile({
  tile,
  name,
  variant = 'grid',
  style,
}: {
  tile: Tile;
  name: string;
  variant?: 'grid' | 'spotlight' | 'strip';
  style?: CSSProperties;
}) {
  const { rooms } = useServices();
  const ref = useRef<HTMLDivElement>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  useStreamIn(videoRef, tile.stream);
  const shown = !!tile.stream;
  const { userId, source, isMe } = tile;

  // room.view: the size of a remote video on screen (0×0 while it shows the avatar).
  useEffect(() => {
    if (isMe) return;
    const el = ref.current;
    if (!el) return;
    const report = () => {
      const r = el.getBoundingClientRect();
      rooms.setTileSize(userId, source, shown ? { width: r.width, height: r.height } : { width: 0, height: 0 });
    };
    report();
    if (typeof ResizeObserver === 'undefined') return () => rooms.setTileSize(userId, source, null);
    const ro = new ResizeObserver(report);
    ro.observe(el);
    return () => {
      ro.disconnect();
      rooms.setTileSize(userId, source, null);
    };
  }, [rooms, userId, source, isMe, shown]);

  const label = source === 'screen' ? `${isMe ? 'Your' : `${name}’s`} screen` : isMe ? `${name} (you)` : name;
  const small = variant === 'strip';
  return (
    <m.div
      ref={ref}
      role="group"
      aria-label={label}
      data-testid="room-tile"
      data-user={userId}
      data-source={source}
      data-muted={tile.audioMuted ? 'true' : 'false'}
      data-video-off={tile.videoOff ? 'true' : 'false'}
      data-active={tile.active ? 'true' : 'false'}
      initial={{ opacity: 0, scale: 0.94 }}
      animate={{ opacity: 1, scale: 1 }}
      exit={{ opacity: 0, scale: 0.94 }}
      transition={{ duration: 0.22, ease: [0.22, 1, 0.36, 1] }}
      style={style}
      className={cn(
        'relative isolate min-h-0 min-w-0 overflow-hidden bg-slate-800 shadow-lg shadow-black/30 ring-1 ring-white/10 transition-[box-shadow] duration-300',
        small ? 'rounded-xl' : 'rounded-2xl',
        tile.active && 'ring-[3px] ring-emerald-400 shadow-[0_0_0_4px_rgb(52_211_153/0.25),0_10px_30px_-10px_rgb(0_0_0/0.6)]',
      )}
    >
      <video
        ref={videoRef}
        autoPlay
        playsInline
        muted
        aria-hidden="true"
        className={cn(
          'absolute inset-0 size-full bg-black',
          source === 'screen' ? 'object-contain' : 'object-cover',
          isMe && source === 'camera' && '-scale-x-100',
          !shown && 'invisible',
        )}
      />
      {!shown && (
        <div className="absolute inset-0 grid place-items-center bg-[radial-gradient(circle_at_50%_40%,oklch(0.4_0.12_277/0.85),oklch(0.2_0.04_265)_75%)]">
          {source === 'screen' ? (
            <MonitorUp className="size-8 text-white/60" aria-hidden />
          ) : (
            <Avatar
              name={avatarName(name)}
              seed={userId}
              size="lg"
              className={cn(
                'ring-4 transition-[box-shadow] duration-300',
                small ? 'size-10 text-sm ring-2' : variant === 'spotlight' ? 'size-28 text-4xl' : 'size-16 text-xl sm:size-20 sm:text-2xl',
                tile.speaking ? 'ring-emerald-400/80' : 'ring-white/10',
              )}
            />
          )}
        </div>
      )}
      <div className={cn('absolute inset-x-0 bottom-0 flex items-end justify-between gap-2 bg-gradient-to-t from-black/60 to-transparent', small ? 'p-1.5 pt-5' : 'p-2.5 pt-8')}>
        <span
          className={cn(
            'flex min-w-0 items-center gap-1.5 rounded-full bg-black/45 font-medium text-white backdrop-blur',
            small ? 'px-2 py-0.5 text-[11px]' : 'px-2.5 py-1 text-xs',
          )}
        >
          {tile.speaking && <SpeakingBars />}
          <span className="truncate">{label}</span>
        </span>
        {source === 'camera' && (tile.audioMuted || tile.videoOff) && (
          <span className="flex shrink-0 items-center gap-1">
            {tile.audioMuted && (
              <span className="grid size-6 place-items-center rounded-full bg-rose-500/90 text-white shadow" data-testid="badge-muted" title="Microphone off">
                <MicOff className="size-3.5" aria-hidden />
                <span className="sr-only">Microphone off</span>
              </span>
            )}
            {tile.videoOff && (
              <span className="grid size-6 place-items-center rounded-full bg-slate-600/90 text-white shadow ring-1 ring-white/20" data-testid="badge-camera-off" title="Camera off">
                <VideoOff className="size-3.5" aria-hidden />
                <span className="sr-only">Camera off</span>
              </span>
            )}
          </span>
        )}
      </div>
    </m.div>
  );
}
