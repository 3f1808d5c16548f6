/**
 * Session lifecycle as the user drives it: sign in, sign up, sign out (here or everywhere).
 * Each talks to the API, then hands the result to the HTTP client (which stores it in the
 * session slice and schedules the refresh), and tells the other tabs. Each takes the
 * services it needs (features/services.ts) as its first argument.
 */
import { toast } from 'sonner';
import { describeError, isApiError, type AuthResponse } from '../../api';
import type { AppServices } from '../services';
import { leaveInviteLink } from './inviteLink';
import { normalizeUsername, type SignInValues, type SignUpValues } from './validation';

export type AuthServices = Pick<AppServices, 'api' | 'session' | 'announce' | 'store'> & Partial<Pick<AppServices, 'notifications'>>;

function adopt(s: AuthServices, auth: AuthResponse): void {
  toast.dismiss(); // earlier failures are moot now
  leaveInviteLink();
  s.session.start(auth);
  s.announce({ type: 'signed-in' });
}

export async function signIn(s: AuthServices, values: SignInValues): Promise<void> {
  const auth = await s.api.auth.login({ username: normalizeUsername(values.username), password: values.password });
  adopt(s, auth);
}

export async function signUp(s: AuthServices, values: SignUpValues, withInvite: boolean): Promise<void> {
  const invite = values.inviteCode.trim();
  const auth = await s.api.auth.register({
    username: normalizeUsername(values.username),
    display_name: values.displayName.trim(),
    password: values.password,
    ...(withInvite && invite ? { invite_code: invite } : {}),
  });
  adopt(s, auth);
}

function endLocalSession(s: AuthServices): void {
  s.session.end();
  s.store.getState().sessionSignedOut();
  s.announce({ type: 'signed-out' });
}

/**
 * Signs this device out. Offline, it refuses (the cookie would bring the session back on the
 * next load); any answer from the server, even an error for an already revoked token, ends
 * the local session.
 */
export async function signOut(s: AuthServices): Promise<void> {
  // While the token still works: the server stops pushing to this device.
  await s.notifications?.signingOut().catch(() => undefined);
  try {
    await s.api.auth.logout();
  } catch (err) {
    if (isApiError(err) && err.isNetworkError) {
      toast.error('Could not sign out', { description: describeError(err) });
      return;
    }
  }
  endLocalSession(s);
  toast.success('Signed out');
}

/** Revokes every session of the account. Stays signed in (and says why) if that fails. */
export async function signOutEverywhere(s: AuthServices): Promise<void> {
  await s.notifications?.signingOut().catch(() => undefined);
  try {
    await s.api.auth.logoutAll();
  } catch (err) {
    toast.error('Could not sign out everywhere', { description: describeError(err) });
    return;
  }
  await s.api.auth.logout().catch(() => undefined); // clear this device's cookie too
  endLocalSession(s);
  toast.success('Signed out on all devices');
}
