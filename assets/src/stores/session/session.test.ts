import { describe, expect, it } from 'vitest';
import type { AuthResponse, User } from '../../api/types';
import { createAppStore } from '../index';
import { initialSessionState, sessionReducer, type SessionState } from './reducer';
import { sessionSelectors } from './selectors';

const ada: User = {
  id: '0190f3a2-0000-7000-8000-000000000001',
  username: 'ada',
  display_name: 'Ada Lovelace',
  is_admin: false,
  created_at: '2025-01-01T00:00:00Z',
};

const auth = (overrides: Partial<AuthResponse> = {}): AuthResponse => ({
  user: ada,
  access_token: 'tok-1',
  token_type: 'Bearer',
  expires_in: 900,
  ...overrides,
});

const signedIn: SessionState = sessionReducer(initialSessionState, {
  type: 'authenticated',
  auth: auth(),
  now: 1_000,
});

describe('sessionReducer', () => {
  it('starts unknown, with no user or token', () => {
    expect(initialSessionState).toEqual({ status: 'unknown', user: null, accessToken: null, expiresAt: null });
  });

  it('authenticated stores user, token and absolute expiry', () => {
    expect(signedIn).toEqual({ status: 'authenticated', user: ada, accessToken: 'tok-1', expiresAt: 901_000 });
  });

  it('a refresh replaces the token', () => {
    const next = sessionReducer(signedIn, { type: 'authenticated', auth: auth({ access_token: 'tok-2' }), now: 5_000 });
    expect(next.accessToken).toBe('tok-2');
    expect(next.expiresAt).toBe(905_000);
  });

  it('signedOut clears everything and is anonymous', () => {
    expect(sessionReducer(signedIn, { type: 'signedOut' })).toEqual({
      status: 'anonymous',
      user: null,
      accessToken: null,
      expiresAt: null,
    });
  });

  it('userUpdated replaces the signed-in user', () => {
    const renamed = { ...ada, display_name: 'Countess Ada' };
    const next = sessionReducer(signedIn, { type: 'userUpdated', user: renamed });
    expect(next.user).toEqual(renamed);
    expect(next.accessToken).toBe('tok-1');
  });

  it('userUpdated ignores another user or a signed-out session', () => {
    const other = { ...ada, id: 'someone-else' };
    expect(sessionReducer(signedIn, { type: 'userUpdated', user: other })).toBe(signedIn);
    const out = sessionReducer(signedIn, { type: 'signedOut' });
    expect(sessionReducer(out, { type: 'userUpdated', user: ada })).toBe(out);
  });

  it('does not mutate its input', () => {
    const frozen = Object.freeze({ ...signedIn });
    expect(() => sessionReducer(frozen, { type: 'signedOut' })).not.toThrow();
    expect(frozen.status).toBe('authenticated');
  });
});

describe('session selectors', () => {
  it('read the slice', () => {
    const s = { session: signedIn };
    expect(sessionSelectors.status(s)).toBe('authenticated');
    expect(sessionSelectors.isAuthenticated(s)).toBe(true);
    expect(sessionSelectors.isResolved(s)).toBe(true);
    expect(sessionSelectors.user(s)).toBe(ada);
    expect(sessionSelectors.accessToken(s)).toBe('tok-1');
    expect(sessionSelectors.displayName(s)).toBe('Ada Lovelace');
  });

  it('report an unresolved boot state', () => {
    const s = { session: initialSessionState };
    expect(sessionSelectors.isResolved(s)).toBe(false);
    expect(sessionSelectors.isAuthenticated(s)).toBe(false);
    expect(sessionSelectors.displayName(s)).toBe('');
  });
});

describe('session slice in the store', () => {
  it('actions go through the reducer', () => {
    const store = createAppStore();
    expect(store.getState().session.status).toBe('unknown');
    store.getState().sessionAuthenticated(auth());
    expect(store.getState().session.status).toBe('authenticated');
    expect(store.getState().session.accessToken).toBe('tok-1');
    store.getState().sessionUserUpdated({ ...ada, display_name: 'A. L.' });
    expect(sessionSelectors.displayName(store.getState())).toBe('A. L.');
    store.getState().sessionSignedOut();
    expect(store.getState().session).toEqual({ status: 'anonymous', user: null, accessToken: null, expiresAt: null });
  });

  it('leaves other slices alone', () => {
    const store = createAppStore();
    const server = store.getState().server;
    store.getState().sessionAuthenticated(auth());
    expect(store.getState().server).toBe(server);
  });
});
