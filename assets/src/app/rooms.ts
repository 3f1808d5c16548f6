/**
 * The one room controller of the tab (group calls), wired to the gateway, the API and the
 * browser's WebRTC and media APIs. It runs for the life of the app; sign-out leaves the
 * room and resets the rooms slice.
 */
import { toast } from 'sonner';
import { RoomController } from '../features/rooms/controller';
import { useAppStore } from './store';
import { api } from './api';
import { gateway } from './gateway';
import { exposeRoomToTests, forcedIcePolicy } from './testHooks';

const unsupported = () =>
  // Only secure contexts (HTTPS, localhost) have mediaDevices.
  Promise.reject(Object.assign(new Error('navigator.mediaDevices is not available'), { name: 'Unsupported' }));

export const rooms = new RoomController({
  store: useAppStore,
  gateway: {
    send: (event) => gateway.connection.send(event),
    onRoomEvent: (listener) => gateway.onRoomEvent(listener),
  },
  iceServers: () => api.calls.iceServers(),
  createPeerConnection: (config) => new RTCPeerConnection(config),
  getUserMedia: (constraints) => (navigator.mediaDevices?.getUserMedia ? navigator.mediaDevices.getUserMedia(constraints) : unsupported()),
  getDisplayMedia:
    typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function'
      ? (options) => navigator.mediaDevices.getDisplayMedia(options)
      : undefined,
  enumerateDevices: () => (navigator.mediaDevices?.enumerateDevices ? navigator.mediaDevices.enumerateDevices() : Promise.resolve([])),
  createMediaStream: (tracks) => new MediaStream(tracks),
  notify: {
    error: (message, description) => toast.error(message, { description }),
    info: (message, description) => toast.info(message, { description }),
  },
  iceTransportPolicy: forcedIcePolicy,
  observer: exposeRoomToTests,
});

/** Starts the controller; leaving the page or signing out leaves the room properly. Returns a cleanup. */
export function runRooms(): () => void {
  rooms.start();
  // Signing out: leave while the socket is still there to say so (registered before the gateway's listener).
  const unsubscribe = useAppStore.subscribe((s, prev) => {
    if (prev.session.status === 'authenticated' && s.session.status !== 'authenticated') rooms.leave();
  });
  const onPageHide = (e: PageTransitionEvent) => {
    if (!e.persisted) rooms.leave();
  };
  window.addEventListener('pagehide', onPageHide);
  return () => {
    unsubscribe();
    window.removeEventListener('pagehide', onPageHide);
    rooms.stop();
  };
}
