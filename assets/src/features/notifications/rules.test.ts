import { describe, expect, it } from 'vitest';
import { message } from '../../test/fixtures';
import { dndActive, isMuted, mentions, messagePayload, muteUntil, nextMorning, shouldNotifyInPage, shouldOfferOptIn, type InPageFacts, type OptInFacts } from './rules';

const NOW = Date.parse('2026-12-04T15:00:00Z');

describe('shouldOfferOptIn', () => {
  const fresh: OptInFacts = { supported: true, permission: 'default', enabled: false, dismissed: false, messagesSent: 0, conversationsOpened: 0 };

  it('never on a first load (nothing done yet), nor after one conversation opened', () => {
    expect(shouldOfferOptIn(fresh)).toBe(false);
    expect(shouldOfferOptIn({ ...fresh, conversationsOpened: 1 })).toBe(false);
  });

  it('after a message sent, or a second conversation opened', () => {
    expect(shouldOfferOptIn({ ...fresh, messagesSent: 1 })).toBe(true);
    expect(shouldOfferOptIn({ ...fresh, conversationsOpened: 2 })).toBe(true);
  });

  it('not when already on, dismissed, denied or unsupported', () => {
    const due = { ...fresh, messagesSent: 3, conversationsOpened: 5 };
    expect(shouldOfferOptIn({ ...due, enabled: true })).toBe(false);
    expect(shouldOfferOptIn({ ...due, dismissed: true })).toBe(false);
    expect(shouldOfferOptIn({ ...due, permission: 'denied' })).toBe(false);
    expect(shouldOfferOptIn({ ...due, supported: false })).toBe(false);
    // Granted but off on this device (turned off in the menu): still offered.
    expect(shouldOfferOptIn({ ...due, permission: 'granted' })).toBe(true);
  });
});

describe('shouldNotifyInPage', () => {
  const m = { conversation_id: 'c1', sender_id: 'bob', kind: 'text' as const, body: 'hi' };
  const facts: InPageFacts = { myId: 'me', permission: 'granted', enabled: true, visibility: 'hidden', mutes: {}, dndUntil: null, now: NOW };

  it('notifies for someone else’s message while the tab is hidden', () => {
    expect(shouldNotifyInPage(m, facts)).toBe(true);
  });

  it('not while the tab is visible, for my own messages, or for call records', () => {
    expect(shouldNotifyInPage(m, { ...facts, visibility: 'visible' })).toBe(false);
    expect(shouldNotifyInPage({ ...m, sender_id: 'me' }, facts)).toBe(false);
    expect(shouldNotifyInPage({ ...m, kind: 'call' }, facts)).toBe(false);
  });

  it('not without permission or when turned off on this device', () => {
    expect(shouldNotifyInPage(m, { ...facts, permission: 'default' })).toBe(false);
    expect(shouldNotifyInPage(m, { ...facts, permission: 'denied' })).toBe(false);
    expect(shouldNotifyInPage(m, { ...facts, enabled: false })).toBe(false);
  });

  it('not for a muted conversation (always, or until later); again once the mute is over', () => {
    expect(shouldNotifyInPage(m, { ...facts, mutes: { c1: null } })).toBe(false);
    expect(shouldNotifyInPage(m, { ...facts, mutes: { c1: '2026-12-04T16:00:00Z' } })).toBe(false);
    expect(shouldNotifyInPage(m, { ...facts, mutes: { c1: '2026-12-04T14:00:00Z' } })).toBe(true);
    expect(shouldNotifyInPage(m, { ...facts, mutes: { other: null } })).toBe(true);
  });

  it('a muted group still notifies for a message that mentions me; do-not-disturb does not', () => {
    const muted = { ...facts, myUsername: 'me_user', mutes: { c1: null } };
    expect(shouldNotifyInPage({ ...m, body: 'ping @me_user, look' }, muted)).toBe(true);
    expect(shouldNotifyInPage({ ...m, body: 'ping @me_user' }, { ...muted, dndUntil: '2026-12-05T08:00:00Z' })).toBe(false);
    expect(shouldNotifyInPage({ ...m, body: 'ping @me_user' }, { ...muted, myUsername: null })).toBe(false);
  });

  it('not during do-not-disturb; again after it', () => {
    expect(shouldNotifyInPage(m, { ...facts, dndUntil: '2026-12-05T08:00:00Z' })).toBe(false);
    expect(shouldNotifyInPage(m, { ...facts, dndUntil: '2026-12-04T08:00:00Z' })).toBe(true);
  });
});

describe('mutes and do-not-disturb', () => {
  it('mute choices send an end an hour or eight away, or null for always', () => {
    expect(muteUntil('1h', NOW)).toBe('2026-12-04T16:00:00.000Z');
    expect(muteUntil('8h', NOW)).toBe('2026-12-04T23:00:00.000Z');
    expect(muteUntil('always', NOW)).toBeNull();
  });

  it('isMuted and dndActive compare with now', () => {
    expect(isMuted({ c: null }, 'c', NOW)).toBe(true);
    expect(isMuted({ c: '2026-12-04T15:00:01Z' }, 'c', NOW)).toBe(true);
    expect(isMuted({ c: '2026-12-04T15:00:00Z' }, 'c', NOW)).toBe(false);
    expect(isMuted({}, 'c', NOW)).toBe(false);
    expect(dndActive(null, NOW)).toBe(false);
    expect(dndActive('2026-12-04T15:01:00Z', NOW)).toBe(true);
  });

  it('do-not-disturb lasts until the next 08:00 local time', () => {
    const evening = new Date(2026, 11, 4, 22, 30).getTime();
    expect(new Date(nextMorning(evening)).getTime()).toBe(new Date(2026, 11, 5, 8, 0).getTime());
    const early = new Date(2026, 11, 4, 6, 15).getTime();
    expect(new Date(nextMorning(early)).getTime()).toBe(new Date(2026, 11, 4, 8, 0).getTime());
  });
});

describe('mentions', () => {
  it('finds @username as a word, in any case, not inside another name or address', () => {
    expect(mentions('@alice hi', 'alice')).toBe(true);
    expect(mentions('hi @Alice!', 'alice')).toBe(true);
    expect(mentions('hi @alice_b', 'alice')).toBe(false);
    expect(mentions('mail alice@alice.com', 'alice')).toBe(false);
    expect(mentions('hi @@alice', 'alice')).toBe(false);
    expect(mentions('a.b @a.b', 'a.b')).toBe(true);
    expect(mentions('hi', null)).toBe(false);
  });
});

describe('messagePayload', () => {
  it('is the payload the server would push, without the body when content is hidden', () => {
    const m = message(4, { conversation_id: 'g1', sender_id: 'bob', body: 'hi\nthere' });
    const p = messagePayload(m, { kind: 'group', name: 'Crew' }, { id: 'bob', display_name: 'Bob' }, false, 2);
    expect(p).toMatchObject({ v: 1, type: 'message', conversation_id: 'g1', conversation_kind: 'group', conversation_name: 'Crew', body: 'hi', hidden: false, unread: 2, seq: 4 });
    const hidden = messagePayload(m, { kind: 'group', name: 'Crew' }, { id: 'bob', display_name: 'Bob' }, true, 2);
    expect(hidden.hidden).toBe(true);
    expect(hidden).not.toHaveProperty('body');
  });
});
