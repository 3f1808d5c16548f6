/**
 * The media view: what the call screen shows besides the state (the streams and the
 * quality hint), as a tiny external store for `useSyncExternalStore`. Every change is a
 * new object, so React re-renders; `reset` goes back to nothing shown.
 */
import type { Quality } from './quality';

export interface CallMediaView {
  local: MediaStream | null;
  remote: MediaStream | null;
  quality: Quality | null;
  rttMs: number | null;
  lossPct: number | null;
}

export const NO_MEDIA: CallMediaView = { local: null, remote: null, quality: null, rttMs: null, lossPct: null };

export class MediaViewStore {
  private view: CallMediaView = NO_MEDIA;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get = (): CallMediaView => this.view;

  publish(patch: Partial<CallMediaView>): void {
    this.view = { ...this.view, ...patch };
    this.notify();
  }

  /** Nothing to show (the call is over); listeners hear of it only if something was shown. */
  reset(): void {
    if (this.view === NO_MEDIA) return;
    this.view = NO_MEDIA;
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
