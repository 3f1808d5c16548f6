import { describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../api/types';
import { createAppStore } from '../index';
import { initialServerState, serverReducer } from './reducer';
import { serverSelectors } from './selectors';

const info = (registration: ServerInfo['registration']): ServerInfo => ({
  name: 'Home',
  registration,
  version: '0.1.0',
});

describe('needsInvite', () => {
  it('asks for a code on invite servers, except for the very first account', () => {
    const withInfo = (i: ServerInfo) => ({ server: { status: 'ready' as const, info: i } });
    expect(serverSelectors.needsInvite(withInfo(info('invite')))).toBe(true);
    expect(serverSelectors.needsInvite(withInfo({ ...info('invite'), setup_required: true }))).toBe(false);
    expect(serverSelectors.needsInvite(withInfo(info('open')))).toBe(false);
  });
});

describe('serverReducer', () => {
  it('starts loading', () => {
    expect(initialServerState).toEqual({ status: 'loading', info: null });
  });

  it('loaded stores the info', () => {
    expect(serverReducer(initialServerState, { type: 'loaded', info: info('invite') })).toEqual({
      status: 'ready',
      info: info('invite'),
    });
  });

  it('failed without info is an error; with info it keeps the info', () => {
    expect(serverReducer(initialServerState, { type: 'failed' }).status).toBe('error');
    const ready = serverReducer(initialServerState, { type: 'loaded', info: info('open') });
    expect(serverReducer(ready, { type: 'failed' })).toEqual(ready);
  });

  it('registrationChanged updates known info only', () => {
    const ready = serverReducer(initialServerState, { type: 'loaded', info: info('open') });
    expect(serverReducer(ready, { type: 'registrationChanged', registration: 'closed' }).info?.registration).toBe(
      'closed',
    );
    expect(serverReducer(initialServerState, { type: 'registrationChanged', registration: 'closed' })).toBe(
      initialServerState,
    );
  });
});

describe('server selectors', () => {
  const at = (registration: ServerInfo['registration']) => ({ server: { status: 'ready' as const, info: info(registration) } });

  it('open: sign-up without invite', () => {
    expect(serverSelectors.canSignUp(at('open'))).toBe(true);
    expect(serverSelectors.needsInvite(at('open'))).toBe(false);
  });

  it('invite: sign-up with invite code', () => {
    expect(serverSelectors.canSignUp(at('invite'))).toBe(true);
    expect(serverSelectors.needsInvite(at('invite'))).toBe(true);
  });

  it('closed: no sign-up', () => {
    expect(serverSelectors.canSignUp(at('closed'))).toBe(false);
    expect(serverSelectors.registration(at('closed'))).toBe('closed');
  });

  it('unknown server: open, default name', () => {
    const s = { server: initialServerState };
    expect(serverSelectors.canSignUp(s)).toBe(true);
    expect(serverSelectors.needsInvite(s)).toBe(false);
    expect(serverSelectors.name(s)).toBe('Nexus');
    expect(serverSelectors.version(s)).toBeNull();
    expect(serverSelectors.name(at('open'))).toBe('Home');
  });
});

describe('server slice in the store', () => {
  it('actions go through the reducer', () => {
    const store = createAppStore();
    store.getState().serverLoaded(info('invite'));
    expect(serverSelectors.needsInvite(store.getState())).toBe(true);
    store.getState().serverRegistrationChanged('closed');
    expect(serverSelectors.canSignUp(store.getState())).toBe(false);
    store.getState().serverFailed();
    expect(store.getState().server.status).toBe('ready');
  });
});
