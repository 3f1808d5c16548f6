/**
 * The one gateway client of the tab, wired to the HTTP client and the store. It runs while
 * someone is signed in: started on sign-in, stopped (and all chat state forgotten) on
 * sign-out. The browser's network and visibility events wake it up.
 */
import { GatewayClient } from '../gateway/client';
import { socketUrl, type SocketLike } from '../gateway/connection';
import { WS_PATH } from '../gateway/protocol';
import { useAppStore } from './store';
import { api, http } from './api';

export const gateway = new GatewayClient({
  store: useAppStore,
  api: api.conversations,
  changesApi: api.changes,
  socket: {
    url: (token) => socketUrl(window.location, WS_PATH, token),
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    refreshToken: () => http.refresh(),
    // A REST call with the current token: on 401 the HTTP client refreshes it.
    checkSession: () => api.users.me(),
    isOnline: () => navigator.onLine !== false,
  },
});

/** Starts and stops the gateway with the session; opens conversations as they are opened. Returns a cleanup. */
export function runGateway(): () => void {
  const store = useAppStore;
  if (store.getState().session.status === 'authenticated') gateway.start();
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.session.status !== prev.session.status) {
      if (s.session.status === 'authenticated') {
        gateway.start();
      } else if (prev.session.status === 'authenticated') {
        // Signed out (here or in another tab): forget every conversation, draft and socket.
        gateway.stop();
        s.chatReset();
      }
    }
    const active = s.conversations.activeId;
    if (active && active !== prev.conversations.activeId) gateway.open(active);
  });

  const onOnline = () => gateway.connection.wake();
  const onOffline = () => gateway.connection.goOffline();
  const onVisible = () => {
    if (document.visibilityState === 'visible') gateway.connection.wake();
  };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    unsubscribe();
    window.removeEventListener('online', onOnline);
    window.removeEventListener('offline', onOffline);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
