import { Phone, Video } from 'lucide-react';
import { callsSelectors, connectionSelectors, roomsSelectors } from '../../stores';
import { IconButton } from '../../ui';
import { useAppState, useServices } from '../services';

/**
 * Audio and video "Start call" buttons for the header of a group conversation. While the
 * conversation has a call going, the banner under the header offers to join it instead.
 */
export function RoomButtons({ conversationId }: { conversationId: string }) {
  const { rooms } = useServices();
  const live = useAppState((s) => roomsSelectors.live(s, conversationId));
  const inRoom = useAppState(roomsSelectors.inRoom);
  const canStartCall = useAppState(callsSelectors.canStart);
  const online = useAppState(connectionSelectors.isOpen);
  if (live) return null;
  const disabled = inRoom || !canStartCall || !online;
  const start = (media: 'audio' | 'video') => {
    // Load the call screen while the server sets the room up.
    void import('./RoomScreen');
    rooms.join(conversationId, media);
  };
  const cls = 'disabled:cursor-not-allowed disabled:opacity-40 disabled:hover:bg-transparent';
  return (
    <>
      <IconButton label="Start audio call" disabled={disabled} onClick={() => start('audio')} className={cls}>
        <Phone className="size-[18px]" aria-hidden />
      </IconButton>
      <IconButton label="Start video call" disabled={disabled} onClick={() => start('video')} className={cls}>
        <Video className="size-5" aria-hidden />
      </IconButton>
    </>
  );
}
