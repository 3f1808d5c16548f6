/**
 * Start-up: learn about the server and try to resume a session from the refresh cookie.
 * A 401 from the refresh means "nobody is signed in" (the session slice becomes anonymous
 * through the client's onSessionLost). Unreachable (offline, the app opened from the service
 * worker's cache): the splash says so with the connection banner and the refresh is tried
 * again when the browser is back online, and every few seconds. Any other failure lands on
 * the sign-in screen, with a word about the connection.
 */
import { toast } from 'sonner';
import { describeError, isApiError } from '../api';
import { useAppStore } from './store';
import { api, http } from './api';

export async function bootstrap(): Promise<void> {
  const store = useAppStore.getState();

  const serverInfo = api.server
    .info()
    .then((info) => {
      store.serverLoaded(info);
      if (info.name) document.title = info.name;
    })
    .catch(() => store.serverFailed());

  await Promise.all([serverInfo, resumeSession()]);
}

const RETRY_MS = [2_000, 4_000, 8_000, 15_000, 30_000];

async function resumeSession(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await http.refresh();
      useAppStore.getState().connectionReset();
      return;
    } catch (err) {
      if (isApiError(err) && err.status === 401) {
        useAppStore.getState().connectionReset();
        return; // already anonymous
      }
      if (!(isApiError(err) && err.isNetworkError)) {
        useAppStore.getState().sessionSignedOut();
        toast.error('Could not reach the server', { description: describeError(err) });
        return;
      }
      useAppStore.getState().connectionChanged(navigator.onLine === false ? 'offline' : 'reconnecting', { attempt: attempt + 1 });
      await backOnline(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!);
      if (useAppStore.getState().session.status !== 'unknown') return; // another tab's sign-in got here first
    }
  }
}

/** Resolves after `ms`, or sooner when the browser says it is online again. */
function backOnline(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      window.removeEventListener('online', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    window.addEventListener('online', done);
  });
}
