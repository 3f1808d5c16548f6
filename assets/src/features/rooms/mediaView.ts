/**
 * The room's media for the UI (streams, not state): our camera preview and screen share,
 * the remote tracks by participant and source, and the devices in use, as a tiny external
 * store for `useSyncExternalStore`. Every change is a new object.
 */
import type { RemoteMedia } from './slots';

export interface RoomMediaView {
  /** Our camera, for the self view (video only; null without one). */
  local: MediaStream | null;
  /** Our screen share, while on. */
  screen: MediaStream | null;
  remote: RemoteMedia[];
  /** The device ids of the microphone and camera in use. */
  devices: { audioinput: string | null; videoinput: string | null };
}

export const NO_ROOM_MEDIA: RoomMediaView = { local: null, screen: null, remote: [], devices: { audioinput: null, videoinput: null } };

export class RoomMediaStore {
  private view: RoomMediaView = NO_ROOM_MEDIA;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get = (): RoomMediaView => this.view;

  publish(patch: Partial<RoomMediaView>): void {
    this.view = { ...this.view, ...patch };
    for (const l of this.listeners) l();
  }

  reset(): void {
    if (this.view === NO_ROOM_MEDIA) return;
    this.view = NO_ROOM_MEDIA;
    for (const l of this.listeners) l();
  }
}
