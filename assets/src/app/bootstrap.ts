/**
 * Start-up: learn about the server and try to resume a session from the refresh cookie.
 * A 401 from the refresh means "nobody is signed in" (the session slice becomes anonymous
 * through the client's onSessionLost); any other failure also lands on the sign-in screen,
 * with a word about the connection.
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

  const session = http.refresh().then(
    () => undefined,
    (err: unknown) => {
      if (isApiError(err) && err.status === 401) return; // already anonymous
      useAppStore.getState().sessionSignedOut();
      toast.error('Could not reach the server', { description: describeError(err) });
    },
  );

  await Promise.all([serverInfo, session]);
}
