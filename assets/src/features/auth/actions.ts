/**
 * Session lifecycle as the user drives it: sign in, sign up, sign out (here or everywhere).
 * Each talks to the API, then hands the result to the HTTP client (which stores it in the
 * session slice and schedules the refresh), and tells the other tabs.
 */
import { toast } from 'sonner';
import { describeError, isApiError, type AuthResponse } from '../../api';
import { announceToOtherTabs, api, http } from '../../app/api';
import { useAppStore } from '../../stores';
import { normalizeUsername, type SignInValues, type SignUpValues } from './validation';

function adopt(auth: AuthResponse): void {
  toast.dismiss(); // earlier failures are moot now
  http.startSession(auth);
  announceToOtherTabs({ type: 'signed-in' });
}

export async function signIn(values: SignInValues): Promise<void> {
  const auth = await api.auth.login({ username: normalizeUsername(values.username), password: values.password });
  adopt(auth);
}

export async function signUp(values: SignUpValues, withInvite: boolean): Promise<void> {
  const invite = values.inviteCode.trim();
  const auth = await api.auth.register({
    username: normalizeUsername(values.username),
    display_name: values.displayName.trim(),
    password: values.password,
    ...(withInvite && invite ? { invite_code: invite } : {}),
  });
  adopt(auth);
}

function endLocalSession(): void {
  http.endSession();
  useAppStore.getState().sessionSignedOut();
  announceToOtherTabs({ type: 'signed-out' });
}

/**
 * Signs this device out. Offline, it refuses (the cookie would bring the session back on the
 * next load); any answer from the server, even an error for an already revoked token, ends
 * the local session.
 */
export async function signOut(): Promise<void> {
  try {
    await api.auth.logout();
  } catch (err) {
    if (isApiError(err) && err.isNetworkError) {
      toast.error('Could not sign out', { description: describeError(err) });
      return;
    }
  }
  endLocalSession();
  toast.success('Signed out');
}

/** Revokes every session of the account. Stays signed in (and says why) if that fails. */
export async function signOutEverywhere(): Promise<void> {
  try {
    await api.auth.logoutAll();
  } catch (err) {
    toast.error('Could not sign out everywhere', { description: describeError(err) });
    return;
  }
  await api.auth.logout().catch(() => undefined); // clear this device's cookie too
  endLocalSession();
  toast.success('Signed out on all devices');
}
