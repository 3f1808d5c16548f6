import { useSyncExternalStore } from 'react';
import { calls } from '../../app/calls';
import type { CallMediaView } from './controller';

/** The call's streams and quality hint, re-rendering when they change. */
export function useCallMedia(): CallMediaView {
  return useSyncExternalStore(calls.subscribe, calls.getMedia, calls.getMedia);
}
