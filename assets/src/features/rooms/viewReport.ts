/**
 * `room.view`: the size at which each remote video is shown, so the server forwards the
 * simulcast layer that fits (and nothing for a hidden one). The tiles report their size as
 * they are laid out; every remote video without a size on screen counts as hidden (0×0).
 * Sent debounced (VIEW_DEBOUNCE_MS) and only when it changed.
 */
import type { Timers } from '../../gateway/connection';
import type { ClientEvent, RoomTile } from '../../gateway/protocol';
import { mediaKey, type RemoteMedia } from './slots';

export const VIEW_DEBOUNCE_MS = 300;
/** The server takes at most this many tiles. */
export const MAX_TILES = 32;

export function viewTiles(remote: readonly RemoteMedia[], sizes: ReadonlyMap<string, { width: number; height: number }>): RoomTile[] {
  const tiles: RoomTile[] = [];
  for (const r of remote) {
    if (r.source === 'microphone') continue;
    const size = sizes.get(mediaKey(r.userId, r.source));
    tiles.push({
      user_id: r.userId,
      source: r.source,
      width: size ? Math.max(0, Math.round(size.width)) : 0,
      height: size ? Math.max(0, Math.round(size.height)) : 0,
    });
  }
  tiles.sort((a, b) => (a.user_id + a.source < b.user_id + b.source ? -1 : 1));
  return tiles.slice(0, MAX_TILES);
}

export class ViewReporter {
  private readonly sizes = new Map<string, { width: number; height: number }>();
  private timer: unknown = null;
  private lastSent = '[]';

  constructor(
    private readonly conversationId: string,
    private readonly remote: () => readonly RemoteMedia[],
    private readonly send: (event: ClientEvent) => boolean,
    private readonly timers: Timers,
  ) {}

  /** A tile's size on screen (0×0: hidden; `null`: the tile is gone). */
  setSize(userId: string, source: 'camera' | 'screen', size: { width: number; height: number } | null): void {
    const key = mediaKey(userId, source);
    if (size) this.sizes.set(key, size);
    else this.sizes.delete(key);
    this.schedule();
  }

  /** Something changed (sizes, the remote tracks): send once things settle. */
  schedule(): void {
    if (this.timer !== null) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, VIEW_DEBOUNCE_MS);
  }

  /** Sends the view now if it differs from the last one sent. */
  flush(): void {
    const tiles = viewTiles(this.remote(), this.sizes);
    const json = JSON.stringify(tiles);
    if (json === this.lastSent) return;
    if (this.send({ type: 'room.view', conversation_id: this.conversationId, tiles })) this.lastSent = json;
  }

  /** The server forgot it (a new socket, a new peer connection): the next flush sends it again. */
  forgetSent(): void {
    this.lastSent = '';
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
