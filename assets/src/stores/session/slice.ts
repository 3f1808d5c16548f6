import type { StateCreator } from 'zustand';
import type { AuthResponse, User } from '../../api/types';
import { initialSessionState, sessionReducer, type SessionAction, type SessionState } from './reducer';

export interface SessionSlice {
  session: SessionState;
  sessionAuthenticated(auth: AuthResponse): void;
  sessionSignedOut(): void;
  sessionUserUpdated(user: User): void;
}

export const createSessionSlice = <S extends SessionSlice>(): StateCreator<S, [], [], SessionSlice> =>
  (set) => {
    const dispatch = (action: SessionAction) =>
      set((s) => ({ session: sessionReducer(s.session, action) }) as Partial<S>);
    return {
      session: initialSessionState,
      sessionAuthenticated: (auth) => dispatch({ type: 'authenticated', auth, now: Date.now() }),
      sessionSignedOut: () => dispatch({ type: 'signedOut' }),
      sessionUserUpdated: (user) => dispatch({ type: 'userUpdated', user }),
    };
  };
