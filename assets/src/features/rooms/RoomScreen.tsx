import { AnimatePresence } from 'framer-motion';
import { Users } from 'lucide-react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { conversationsSelectors, conversationTitle, formatCallDuration, roomsSelectors, type RoomSession } from '../../stores';
import { cn, useMediaQuery } from '../../ui';
import { useAppState } from '../services';
import { gridShape, isPortraitPhone, TILE_ASPECT, TILE_GAP, tileColumnStart } from './layout';
import { RoomControls } from './RoomControls';
import { RoomTile, useStreamIn } from './RoomTile';
import type { RemoteMedia } from './slots';
import { buildTiles, type Tile } from './tiles';
import { useElementSize } from './useElementSize';
import { useRoomMedia } from './useRoomMedia';

/** What the header says under the title. */
export function roomStatusText(s: Pick<RoomSession, 'phase' | 'interrupted' | 'rejoined' | 'resuming'>): string | null {
  if (s.phase === 'joining') return s.resuming ? 'Reconnecting…' : s.rejoined ? 'Rejoining…' : 'Joining…';
  if (s.phase === 'connecting') return 'Connecting…';
  return s.interrupted ? 'Reconnecting…' : null;
}

/**
 * The group call: everyone's camera in a grid that adapts from 1 to 16 tiles (or, with a
 * screen share, the screen large and the cameras in a strip), the active speaker ringed,
 * and the controls at the bottom. Full screen on a phone; a large panel on a desktop.
 */
export default function RoomScreen() {
  const session = useAppState(roomsSelectors.session);
  const cid = session?.conversationId ?? null;
  const live = useAppState((s) => roomsSelectors.live(s, cid));
  const conversation = useAppState((s) => conversationsSelectors.byId(s, cid));
  const users = useAppState(conversationsSelectors.users);
  const myId = useAppState((s) => s.session.user?.id ?? '');
  const myName = useAppState((s) => s.session.user?.display_name ?? 'You');
  const media = useRoomMedia();
  const layout = useMemo(
    () => (session ? buildTiles(live?.participants ?? [], myId, session, media) : { spotlight: null, tiles: [] }),
    [session, live, myId, media],
  );
  if (!session) return null;
  const title = conversation ? conversationTitle(conversation, myId) : 'Group call';
  const status = roomStatusText(session);
  const count = live?.participants.length ?? 1;
  const nameOf = (userId: string) => (userId === myId ? myName : (users[userId]?.display_name ?? 'Someone'));

  return (
    <div className="fixed inset-0 z-50 flex items-stretch justify-center bg-slate-950/40 backdrop-blur-sm md:p-6">
      <div
        role="dialog"
        aria-modal="true"
        aria-label="Group call"
        data-testid="room-screen"
        data-phase={session.phase}
        className="call-in relative flex w-full max-w-[96rem] flex-col overflow-hidden bg-[radial-gradient(60rem_40rem_at_50%_-10%,oklch(0.32_0.09_277/0.9),transparent_70%),linear-gradient(170deg,oklch(0.19_0.035_268),oklch(0.13_0.025_250))] text-white md:rounded-[2rem] md:shadow-2xl md:ring-1 md:ring-white/10"
      >
        <header className="flex items-center gap-3 px-4 pb-2 pt-[max(0.9rem,env(safe-area-inset-top))] sm:px-6">
          <div className="min-w-0 flex-1">
            <h2 className="truncate text-lg font-semibold tracking-tight sm:text-xl">{title}</h2>
            <p className="mt-0.5 flex items-center gap-2 text-sm text-white/75">
              <span data-testid="room-status" aria-live="polite">
                {status ?? (live?.startedAt ? <RoomTimer startedAt={live.startedAt} /> : 'Connected')}
              </span>
            </p>
          </div>
          <span
            className="inline-flex items-center gap-1.5 rounded-full bg-white/10 px-3 py-1 text-xs font-medium text-white/85"
            data-testid="room-count"
            aria-label={`${count} ${count === 1 ? 'person' : 'people'} in the call`}
          >
            <Users className="size-3.5" aria-hidden />
            {count}
          </span>
        </header>

        <main className="relative min-h-0 flex-1 px-2 pb-2 sm:px-4">
          {layout.spotlight ? <Spotlight spotlight={layout.spotlight} tiles={layout.tiles} nameOf={nameOf} /> : <Grid tiles={layout.tiles} nameOf={nameOf} />}
        </main>

        <footer className="relative z-10 px-4 pb-[max(1.25rem,env(safe-area-inset-bottom))] pt-2">
          <RoomControls session={session} media={media} />
        </footer>
        <RoomAudio remote={media.remote} />
      </div>
    </div>
  );
}

/** Everyone in a balanced grid; tiles keep 16:9 on wide screens and fill the space on an upright phone. */
function Grid({ tiles, nameOf }: { tiles: Tile[]; nameOf(userId: string): string }) {
  const stage = useRef<HTMLDivElement>(null);
  const { width, height } = useElementSize(stage);
  const n = tiles.length;
  const shape = gridShape(n, width, height);
  const portrait = isPortraitPhone(width, height);
  let box: { width: number; height: number } | null = null;
  if (!portrait && width > 0 && height > 0) {
    const cellW = (width - TILE_GAP * (shape.cols - 1)) / shape.cols;
    const cellH = (height - TILE_GAP * (shape.rows - 1)) / shape.rows;
    const w = Math.min(cellW, cellH * TILE_ASPECT);
    box = { width: w * shape.cols + TILE_GAP * (shape.cols - 1), height: (w / TILE_ASPECT) * shape.rows + TILE_GAP * (shape.rows - 1) };
  }
  const scroll = portrait && shape.rows > 3;
  return (
    <div ref={stage} className={cn('grid size-full place-items-center', scroll && 'overflow-y-auto')} data-testid="room-grid" data-cols={shape.cols} data-rows={shape.rows}>
      <div
        className="grid"
        style={{
          gap: TILE_GAP,
          gridTemplateColumns: `repeat(${shape.cols * 2}, minmax(0, 1fr))`,
          gridTemplateRows: scroll ? `repeat(${shape.rows}, minmax(7.5rem, 1fr))` : `repeat(${shape.rows}, minmax(0, 1fr))`,
          width: box ? box.width : '100%',
          height: box ? box.height : scroll ? undefined : '100%',
          minHeight: scroll ? '100%' : undefined,
        }}
      >
        <AnimatePresence initial={false}>
          {tiles.map((t, i) => (
            <RoomTile key={t.key} tile={t} name={nameOf(t.userId)} style={{ gridColumn: `${tileColumnStart(i, n, shape.cols) ?? 'auto'} / span 2` }} />
          ))}
        </AnimatePresence>
      </div>
    </div>
  );
}

/** A screen share large, everyone else in a strip: beside it on a wide screen, under it on a phone. */
function Spotlight({ spotlight, tiles, nameOf }: { spotlight: Tile; tiles: Tile[]; nameOf(userId: string): string }) {
  const wide = useMediaQuery('(min-width: 768px)');
  return (
    <div className={cn('flex size-full gap-2.5', wide ? 'flex-row' : 'flex-col')} data-testid="room-spotlight">
      <div className="relative min-h-0 min-w-0 flex-1">
        <RoomTile tile={spotlight} name={nameOf(spotlight.userId)} variant="spotlight" style={{ position: 'absolute', inset: 0 }} />
      </div>
      <div
        className={cn('flex shrink-0 gap-2.5', wide ? 'w-56 flex-col overflow-y-auto lg:w-64' : 'h-28 flex-row overflow-x-auto')}
        aria-label="Participants"
        role="list"
      >
        <AnimatePresence initial={false}>
          {tiles.map((t) => (
            <RoomTile key={t.key} tile={t} name={nameOf(t.userId)} variant="strip" style={wide ? { aspectRatio: '16 / 9', flexShrink: 0 } : { width: '9.5rem', flexShrink: 0 }} />
          ))}
        </AnimatePresence>
      </div>
    </div>
  );
}

/** Plays every remote microphone (the tiles' videos are muted, so sound never depends on the layout). */
function RoomAudio({ remote }: { remote: RemoteMedia[] }) {
  return (
    <div className="hidden" aria-hidden="true">
      {remote
        .filter((r) => r.source === 'microphone')
        .map((r) => (
          <RemoteAudio key={r.key} stream={r.stream} userId={r.userId} />
        ))}
    </div>
  );
}

function RemoteAudio({ stream, userId }: { stream: MediaStream; userId: string }) {
  const ref = useRef<HTMLAudioElement>(null);
  useStreamIn(ref, stream);
  return <audio ref={ref} autoPlay data-user={userId} />;
}

function RoomTimer({ startedAt }: { startedAt: string }) {
  const start = Date.parse(startedAt);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  if (!Number.isFinite(start)) return <>Connected</>;
  const text = formatCallDuration(now - start);
  return (
    <span data-testid="room-timer" className="tabular-nums" aria-label={`Call time ${text}`}>
      {text}
    </span>
  );
}
