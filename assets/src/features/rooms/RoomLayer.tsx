import { lazy, Suspense } from 'react';
import { roomsSelectors } from '../../stores';
import { Spinner } from '../../ui';
import { useAppState } from '../services';

// The in-call view (grid, tiles, controls) loads with the first group call.
const RoomScreen = lazy(() => import('./RoomScreen'));

/** The group call on screen while this device is in one. */
export function RoomLayer() {
  const inRoom = useAppState(roomsSelectors.inRoom);
  if (!inRoom) return null;
  return (
    <Suspense
      fallback={
        <div role="dialog" aria-label="Group call" className="fixed inset-0 z-50 grid place-items-center bg-slate-950/80 text-white">
          <Spinner label="Joining the call" className="size-6" />
        </div>
      }
    >
      <RoomScreen />
    </Suspense>
  );
}
