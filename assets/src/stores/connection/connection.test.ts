import { describe, expect, it } from 'vitest';
import { createAppStore } from '../index';
import { connectionReducer, initialConnectionState } from './reducer';
import { connectionSelectors } from './selectors';

describe('connectionReducer', () => {
  it('starts idle', () => {
    expect(initialConnectionState).toEqual({ status: 'idle', attempt: 0, retryAt: null });
  });

  it('reconnecting carries the attempt and when the next one is due; open resets them', () => {
    let s = connectionReducer(initialConnectionState, { type: 'changed', status: 'reconnecting', attempt: 3, retryAt: 42 });
    expect(s).toEqual({ status: 'reconnecting', attempt: 3, retryAt: 42 });
    s = connectionReducer(s, { type: 'changed', status: 'open' });
    expect(s).toEqual({ status: 'open', attempt: 0, retryAt: null });
    expect(connectionReducer(s, { type: 'changed', status: 'open' })).toBe(s);
  });

  it('the banner speaks only when offline or reconnecting', () => {
    const at = (status: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline') => ({
      connection: { status, attempt: 0, retryAt: null },
    });
    expect(connectionSelectors.banner(at('open'))).toBeNull();
    expect(connectionSelectors.banner(at('connecting'))).toBeNull();
    expect(connectionSelectors.banner(at('reconnecting'))?.tone).toBe('reconnecting');
    expect(connectionSelectors.banner(at('offline'))?.text).toMatch(/offline/);
    expect(connectionSelectors.isOpen(at('open'))).toBe(true);
  });

  it('in the store', () => {
    const store = createAppStore({ draftStorage: () => null });
    store.getState().connectionChanged('offline');
    expect(connectionSelectors.status(store.getState())).toBe('offline');
    store.getState().connectionReset();
    expect(store.getState().connection).toEqual(initialConnectionState);
  });
});
