/**
 * The composition root of the data layer: one HTTP client and API, wired to the store.
 * The client reads the access token from the session slice and writes refreshed sessions
 * back to it; nothing else holds a token.
 */
import { toast } from 'sonner';
import { createHttpClient, createNexusApi } from '../api';
import type { TabMessage } from '../features/services';
import { useAppStore } from './store';

const store = useAppStore;

export const http = createHttpClient({
  session: {
    getAccessToken: () => store.getState().session.accessToken,
    onSession: (auth) => store.getState().sessionAuthenticated(auth),
    onSessionLost: () => {
      const wasSignedIn = store.getState().session.status === 'authenticated';
      store.getState().sessionSignedOut();
      if (wasSignedIn) toast.info('Your session has ended', { description: 'Please sign in again.' });
    },
  },
});

export const api = createNexusApi(http);

/**
 * Other tabs of this origin share the refresh cookie, so they follow each other: a sign-out
 * here signs them out; a sign-in here lets a signed-out tab pick the session up.
 */
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('nexus-session') : null;

export function announceToOtherTabs(message: TabMessage): void {
  channel?.postMessage(message);
}

export function listenToOtherTabs(): () => void {
  const onMessage = (e: MessageEvent<TabMessage>) => {
    const { status } = store.getState().session;
    if (e.data?.type === 'signed-out' && status === 'authenticated') {
      http.endSession();
      store.getState().sessionSignedOut();
      toast.info('Signed out in another tab');
    } else if (e.data?.type === 'signed-in' && status === 'anonymous') {
      http.refresh().catch(() => undefined);
    }
  };
  // Timers are throttled in background tabs: catch up on a due refresh when we come back.
  const onWake = () => {
    if (document.visibilityState === 'visible') http.wake();
  };
  channel?.addEventListener('message', onMessage);
  document.addEventListener('visibilitychange', onWake);
  window.addEventListener('online', onWake);
  return () => {
    channel?.removeEventListener('message', onMessage);
    document.removeEventListener('visibilitychange', onWake);
    window.removeEventListener('online', onWake);
  };
}
