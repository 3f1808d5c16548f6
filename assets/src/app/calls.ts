/**
 * The one call controller of the tab, wired to the gateway, the API and the browser's
 * WebRTC and media APIs. It runs for the life of the app; sign-out resets the calls slice,
 * which tears any call down.
 */
import { toast } from 'sonner';
import { CallController } from '../features/calls/controller';
import { uuid } from '../gateway/client';
import { useAppStore } from './store';
import { api } from './api';
import { gateway } from './gateway';
import { exposeCallToTests, forcedIcePolicy } from './testHooks';

export const calls = new CallController({
  store: useAppStore,
  gateway: {
    send: (event) => gateway.connection.send(event),
    onCallEvent: (listener) => gateway.onCallEvent(listener),
  },
  iceServers: () => api.calls.iceServers(),
  createPeerConnection: (config) => new RTCPeerConnection(config),
  getUserMedia: (constraints) =>
    navigator.mediaDevices?.getUserMedia
      ? navigator.mediaDevices.getUserMedia(constraints)
      : // Only secure contexts (HTTPS, localhost) have mediaDevices.
        Promise.reject(Object.assign(new Error('navigator.mediaDevices is not available'), { name: 'Unsupported' })),
  notify: {
    error: (message, description) => toast.error(message, { description }),
    info: (message, description) => toast.info(message, { description }),
  },
  newCallId: uuid,
  iceTransportPolicy: forcedIcePolicy,
  observer: exposeCallToTests,
  onOnline: (listener) => {
    window.addEventListener('online', listener);
    return () => window.removeEventListener('online', listener);
  },
});

/** Starts the controller; leaving the page or signing out hangs up properly. Returns a cleanup. */
export function runCalls(): () => void {
  calls.start();
  // Signing out: leave the call while the socket is still there to say so. (This listener is
  // registered before the gateway's, which closes the socket on sign-out.)
  const unsubscribe = useAppStore.subscribe((s, prev) => {
    if (prev.session.status === 'authenticated' && s.session.status !== 'authenticated') calls.leave();
  });
  const onPageHide = (e: PageTransitionEvent) => {
    // Kept in the back/forward cache, the page may come back: the grace period covers that.
    if (!e.persisted) calls.leave();
  };
  window.addEventListener('pagehide', onPageHide);
  return () => {
    unsubscribe();
    window.removeEventListener('pagehide', onPageHide);
    calls.stop();
  };
}
