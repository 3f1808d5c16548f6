import { useSyncExternalStore } from 'react';
import { useServices } from '../services';
import type { RoomMediaView } from './mediaView';

/** The room's streams, re-rendering when they change. */
export function useRoomMedia(): RoomMediaView {
  const { rooms } = useServices();
  return useSyncExternalStore(rooms.subscribe, rooms.getMedia, rooms.getMedia);
}
