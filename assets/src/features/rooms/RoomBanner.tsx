import { m } from 'framer-motion';
import { Phone, Video } from 'lucide-react';
import { callsSelectors, connectionSelectors, roomsSelectors } from '../../stores';
import { cn } from '../../ui';
import { useAppState, useServices } from '../services';
import { ParticipantStack } from './ParticipantStack';

/**
 * "Call in progress — Join": under the header of a group conversation whose call this
 * device is not in, with who is in it. From another device of ours it offers to move here.
 */
export function RoomBanner({ conversationId }: { conversationId: string }) {
  const { rooms } = useServices();
  const live = useAppState((s) => roomsSelectors.live(s, conversationId));
  const here = useAppState((s) => roomsSelectors.inRoomOf(s, conversationId));
  const myId = useAppState((s) => s.session.user?.id ?? null);
  const elsewhere = useAppState((s) => roomsSelectors.elsewhereIn(s, conversationId, myId));
  const inRoom = useAppState(roomsSelectors.inRoom);
  const canStartCall = useAppState(callsSelectors.canStart);
  const online = useAppState(connectionSelectors.isOpen);
  if (!live || here) return null;
  const n = live.participants.length;
  const disabled = inRoom || !canStartCall || !online;
  const join = (media: 'audio' | 'video') => {
    void import('./RoomScreen');
    rooms.join(conversationId, media);
  };
  return (
    <m.div
      role="region"
      aria-label="Call in progress"
      data-testid="room-banner"
      initial={{ opacity: 0, y: -6 }}
      animate={{ opacity: 1, y: 0 }}
      transition={{ duration: 0.2 }}
      className="mx-3 mt-2 flex items-center gap-3 rounded-2xl border border-emerald-500/20 bg-emerald-500/10 px-3 py-2 sm:mx-5 dark:border-emerald-400/20 dark:bg-emerald-400/10"
    >
      <span className="relative grid size-8 shrink-0 place-items-center rounded-full bg-emerald-500 text-white shadow-sm shadow-emerald-900/20">
        <span className="absolute inset-0 animate-ping rounded-full bg-emerald-500/40 motion-reduce:hidden" aria-hidden="true" />
        <Video className="relative size-4" aria-hidden />
      </span>
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-semibold text-emerald-900 dark:text-emerald-100">
          {elsewhere ? 'You’re in this call on another device' : 'Call in progress'}
        </p>
        <p className="truncate text-xs text-emerald-800/80 dark:text-emerald-200/80" data-testid="room-banner-count">
          {n === 1 ? '1 person' : `${n} people`} in the call
        </p>
      </div>
      <ParticipantStack participants={live.participants} className="hidden sm:flex" />
      <button
        type="button"
        aria-label="Join with audio only"
        title="Join with audio only"
        disabled={disabled}
        onClick={() => join('audio')}
        className="grid size-9 shrink-0 place-items-center rounded-full text-emerald-800 transition-colors hover:bg-emerald-500/15 disabled:opacity-40 dark:text-emerald-200"
      >
        <Phone className="size-4" aria-hidden />
      </button>
      <button
        type="button"
        disabled={disabled}
        onClick={() => join('video')}
        className={cn(
          'shrink-0 rounded-full bg-emerald-600 px-4 py-1.5 text-sm font-semibold text-white shadow-sm transition-[transform,background-color] duration-150',
          'hover:bg-emerald-500 active:scale-95 disabled:opacity-40 motion-reduce:active:scale-100',
        )}
      >
        {elsewhere ? 'Join here' : 'Join'}
      </button>
    </m.div>
  );
}
