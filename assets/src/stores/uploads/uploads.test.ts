/** The uploads reducer and selectors: tray order, monotonic progress, done/failed, sending a tray, removal. */
import { describe, expect, it } from 'vitest';
import type { Attachment } from '../../api/types';
import { initialUploadsState, uploadsReducer, type Upload, type UploadsAction, type UploadsState } from './reducer';
import { fraction, uploadsSelectors } from './selectors';

const run = (...actions: UploadsAction[]) => actions.reduce(uploadsReducer, initialUploadsState);
const sel = (s: UploadsState) => ({ uploads: s });

const upload = (id: string, overrides: Partial<Upload> = {}): Upload => ({
  id,
  conversationId: 'c1',
  name: `${id}.png`,
  bytes: 1000,
  mime: 'image/png',
  localUrl: `blob:${id}`,
  width: 40,
  height: 30,
  status: 'uploading',
  loaded: 0,
  total: 1000,
  error: null,
  attachment: null,
  clientId: null,
  ...overrides,
});

const attachment = (id: string): Attachment => ({
  id,
  mime: 'image/png',
  bytes: 1000,
  width: 40,
  height: 30,
  blurhash: null,
  url: `/m/${id}`,
  preview: { url: `/m/${id}/p`, width: 40, height: 30 },
  thumbnail: { url: `/m/${id}/t`, width: 40, height: 30 },
});

const add = (id: string, o?: Partial<Upload>): UploadsAction => ({ type: 'added', upload: upload(id, o) });

describe('uploadsReducer', () => {
  it('adds to the conversation’s tray in order, once', () => {
    const s = run(add('a'), add('b'), add('a'), add('z', { conversationId: 'c2' }));
    expect(uploadsSelectors.tray(sel(s), 'c1').map((u) => u.id)).toEqual(['a', 'b']);
    expect(uploadsSelectors.tray(sel(s), 'c2').map((u) => u.id)).toEqual(['z']);
    expect(uploadsSelectors.tray(sel(s), 'none')).toBe(uploadsSelectors.tray(sel(s), 'other'));
  });

  it('progress only moves forward and never past the total', () => {
    const s = run(add('a'), { type: 'progressed', id: 'a', loaded: 600, total: 1000 });
    expect(uploadsSelectors.progress(sel(s), 'a')).toBe(0.6);
    const back = uploadsReducer(s, { type: 'progressed', id: 'a', loaded: 200, total: 1000 });
    expect(back).toBe(s);
    const over = uploadsReducer(s, { type: 'progressed', id: 'a', loaded: 5000, total: 1000 });
    expect(uploadsSelectors.byId(sel(over), 'a')?.loaded).toBe(1000);
  });

  it('finished: done with its attachment, full, and no longer "uploading"', () => {
    const s = run(add('a'), { type: 'finished', id: 'a', attachment: attachment('x') });
    expect(uploadsSelectors.byId(sel(s), 'a')).toMatchObject({ status: 'done', attachment: { id: 'x' }, loaded: 1000 });
    expect(uploadsSelectors.progress(sel(s), 'a')).toBeNull();
    expect(fraction(uploadsSelectors.byId(sel(s), 'a')!)).toBe(1);
    // A late progress event or failure does not undo it.
    expect(uploadsReducer(s, { type: 'progressed', id: 'a', loaded: 10, total: 1000 })).toBe(s);
    expect(uploadsReducer(s, { type: 'failed', id: 'a', error: 'network_error' })).toBe(s);
  });

  it('failed keeps the error code', () => {
    const s = run(add('a'), { type: 'failed', id: 'a', error: 'quota_exceeded' });
    expect(uploadsSelectors.byId(sel(s), 'a')).toMatchObject({ status: 'failed', error: 'quota_exceeded' });
  });

  it('sent moves what did not fail out of the tray, with the message’s client_id; failed ones stay', () => {
    const s = run(add('a'), add('b'), add('c'), { type: 'failed', id: 'b', error: 'invalid_image' }, { type: 'finished', id: 'c', attachment: attachment('x') }, {
      type: 'sent',
      conversationId: 'c1',
      clientId: 'msg-1',
    });
    expect(uploadsSelectors.tray(sel(s), 'c1').map((u) => u.id)).toEqual(['b']);
    expect(uploadsSelectors.ofMessage(sel(s), 'msg-1').map((u) => [u.id, u.status])).toEqual([
      ['a', 'uploading'],
      ['c', 'done'],
    ]);
    // A sent upload still reports progress (the pending bubble shows it).
    const p = uploadsReducer(s, { type: 'progressed', id: 'a', loaded: 500, total: 1000 });
    expect(uploadsSelectors.progress(sel(p), 'a')).toBe(0.5);
    // Nothing to send: unchanged.
    expect(uploadsReducer(s, { type: 'sent', conversationId: 'c2', clientId: 'msg-2' })).toBe(s);
  });

  it('removed drops it from a tray or from the sent ones; reset forgets all', () => {
    const s = run(add('a'), add('b'), { type: 'sent', conversationId: 'c1', clientId: 'm' }, add('c'));
    const r1 = uploadsReducer(s, { type: 'removed', id: 'a' });
    expect(uploadsSelectors.byId(sel(r1), 'a')).toBeUndefined();
    const r2 = uploadsReducer(r1, { type: 'removed', id: 'c' });
    expect(r2.trays).toEqual({});
    expect(uploadsReducer(r2, { type: 'removed', id: 'zzz' })).toBe(r2);
    expect(uploadsReducer(r2, { type: 'reset' })).toEqual(initialUploadsState);
  });
});
