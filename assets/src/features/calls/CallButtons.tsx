import { Phone, Video } from 'lucide-react';
import type { User } from '../../api';
import { callsSelectors, connectionSelectors, roomsSelectors } from '../../stores';
import { IconButton } from '../../ui';
import { useAppState, useServices } from '../services';

/** Audio and video call buttons for the header of a direct conversation. */
export function CallButtons({ conversationId, peer }: { conversationId: string; peer: User }) {
  const { calls } = useServices();
  const canStart = useAppState(callsSelectors.canStart);
  const online = useAppState(connectionSelectors.isOpen);
  // One call at a time: not while this device is in a group call.
  const inRoom = useAppState(roomsSelectors.inRoom);
  const disabled = !canStart || !online || inRoom;
  const start = (media: 'audio' | 'video') => {
    // Load the call screen while it rings.
    void import('./CallScreen');
    calls.startCall(conversationId, peer.id, media);
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
