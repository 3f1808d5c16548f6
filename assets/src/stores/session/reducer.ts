/**
 * Session slice state: who is signed in, with which access token.
 * `unknown` is the boot state (the refresh cookie has not been tried yet); the UI shows a
 * splash until it becomes `anonymous` or `authenticated`.
 */
import type { AuthResponse, User } from '../../api/types';

export type SessionStatus = 'unknown' | 'anonymous' | 'authenticated';

export interface SessionState {
  status: SessionStatus;
  user: User | null;
  accessToken: string | null;
  /** Epoch ms at which `accessToken` expires. */
  expiresAt: number | null;
}

export const initialSessionState: SessionState = {
  status: 'unknown',
  user: null,
  accessToken: null,
  expiresAt: null,
};

export type SessionAction =
  /** Login, registration or refresh succeeded. `now` keeps the reducer pure. */
  | { type: 'authenticated'; auth: AuthResponse; now: number }
  /** Sign-out, a rejected refresh, or no session at boot. */
  | { type: 'signedOut' }
  /** The server sent a newer copy of the signed-in user (e.g. after PATCH /users/me). */
  | { type: 'userUpdated'; user: User };

export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case 'authenticated':
      return {
        status: 'authenticated',
        user: action.auth.user,
        accessToken: action.auth.access_token,
        expiresAt: action.now + action.auth.expires_in * 1000,
      };
    case 'signedOut':
      return { status: 'anonymous', user: null, accessToken: null, expiresAt: null };
    case 'userUpdated':
      // Only the signed-in user can be updated; a stale response after sign-out is dropped.
      if (state.status !== 'authenticated' || state.user?.id !== action.user.id) return state;
      return { ...state, user: action.user };
  }
}
