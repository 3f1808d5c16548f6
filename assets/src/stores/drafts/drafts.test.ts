import { describe, expect, it } from 'vitest';
import { ME } from '../../test/fixtures';
import { createAppStore } from '../index';
import { draftsReducer, initialDraftsState } from './reducer';
import { draftsSelectors } from './selectors';
import { draftKey, type DraftStorage } from './storage';

function memoryStorage(): DraftStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get length() {
      return map.size;
    },
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

describe('draftsReducer', () => {
  it('keeps a draft per conversation and drops empty ones', () => {
    let s = draftsReducer(initialDraftsState, { type: 'changed', conversationId: 'a', text: 'hel' });
    s = draftsReducer(s, { type: 'changed', conversationId: 'b', text: 'yo' });
    expect(draftsSelectors.of({ drafts: s }, 'a')).toBe('hel');
    s = draftsReducer(s, { type: 'changed', conversationId: 'a', text: '' });
    expect(s.byConversation).toEqual({ b: 'yo' });
    expect(draftsSelectors.has({ drafts: s }, 'a')).toBe(false);
    expect(draftsReducer(s, { type: 'changed', conversationId: 'b', text: 'yo' })).toBe(s);
  });

  it('restored fills in without overwriting what is typed now', () => {
    const s = draftsReducer({ ...initialDraftsState, byConversation: { a: 'now' } }, { type: 'restored', drafts: { a: 'old', b: 'kept', c: '' } });
    expect(s.byConversation).toEqual({ a: 'now', b: 'kept' });
  });

  it('reset empties', () => {
    expect(draftsReducer({ ...initialDraftsState, byConversation: { a: 'x' } }, { type: 'reset' })).toEqual(initialDraftsState);
    expect(draftsReducer(initialDraftsState, { type: 'reset' })).toBe(initialDraftsState);
  });

  it('one reply target and one edited message per conversation, beside the text; reset drops them', () => {
    const reply = { id: 'm1', seq: 1, sender_id: 'bob', snippet: 'hi', deleted: false, attachments: 0 };
    let s = draftsReducer(initialDraftsState, { type: 'replySet', conversationId: 'a', reply });
    s = draftsReducer(s, { type: 'editSet', conversationId: 'a', messageId: 'm2' });
    expect(draftsSelectors.replyTo({ drafts: s }, 'a')).toBe(reply);
    expect(draftsSelectors.editing({ drafts: s }, 'a')).toBe('m2');
    expect(draftsSelectors.replyTo({ drafts: s }, 'b')).toBeNull();
    expect(draftsReducer(s, { type: 'editSet', conversationId: 'a', messageId: 'm2' })).toBe(s);
    s = draftsReducer(s, { type: 'replySet', conversationId: 'a', reply: null });
    expect(draftsSelectors.replyTo({ drafts: s }, 'a')).toBeNull();
    expect(draftsReducer(s, { type: 'reset' })).toEqual(initialDraftsState);
  });
});

describe('drafts slice and sessionStorage', () => {
  it('writes non-empty drafts under the user, restores them, and clears them on reset', () => {
    const storage = memoryStorage();
    const store = createAppStore({ draftStorage: () => storage });
    store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    store.getState().draftChanged('c1', 'half a thought');
    expect(storage.map.get(draftKey('me', 'c1'))).toBe('half a thought');
    store.getState().draftChanged('c1', '');
    expect(storage.map.size).toBe(0);

    storage.setItem(draftKey('me', 'c2'), 'from before the reload');
    storage.setItem(draftKey('someone-else', 'c3'), 'not mine');
    const reloaded = createAppStore({ draftStorage: () => storage });
    reloaded.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    reloaded.getState().draftsRestore();
    expect(reloaded.getState().drafts.byConversation).toEqual({ c2: 'from before the reload' });

    reloaded.getState().chatReset();
    expect(reloaded.getState().drafts).toEqual(initialDraftsState);
    expect(storage.map.size).toBe(0);
  });

  it('works without storage', () => {
    const store = createAppStore({ draftStorage: () => null });
    store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
    store.getState().draftChanged('c1', 'x');
    store.getState().draftsRestore();
    expect(draftsSelectors.of(store.getState(), 'c1')).toBe('x');
  });
});
