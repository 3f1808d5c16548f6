import { useSyncExternalStore } from 'react';
import { useServices } from '../services';
import type { CallMediaView } from './controller';

/** The call's streams and quality hint, re-rendering when they change. */
export function useCallMedia(): CallMediaView {
  const { calls } = useServices();
  return useSyncExternalStore(calls.subscribe, calls.getMedia, calls.getMedia);
}
