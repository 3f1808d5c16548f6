import { describe, expect, it } from 'vitest';
import { initialReceiptsState, receiptsReducer, type ReceiptsAction } from './reducer';
import { receiptsSelectors, seenBy, seenByLabel, tickState } from './selectors';

const run = (...actions: ReceiptsAction[]) => actions.reduce(receiptsReducer, initialReceiptsState);
const r = (user_id: string, delivered_seq: number, read_seq: number) => ({ user_id, delivered_seq, read_seq });

describe('receiptsReducer', () => {
  it('loaded stores each member’s pointers', () => {
    const s = run({ type: 'loaded', conversationId: 'c1', receipts: [r('bob', 5, 3), r('me', 5, 5)] });
    expect(receiptsSelectors.of({ receipts: s }, 'c1', 'bob')).toEqual({ delivered_seq: 5, read_seq: 3 });
  });

  it('pointers only move forward; reading implies delivery', () => {
    const s = run(
      { type: 'received', conversationId: 'c1', receipt: r('bob', 5, 3) },
      { type: 'received', conversationId: 'c1', receipt: r('bob', 2, 1) },
      { type: 'received', conversationId: 'c1', receipt: r('bob', 0, 7) },
    );
    expect(receiptsSelectors.of({ receipts: s }, 'c1', 'bob')).toEqual({ delivered_seq: 7, read_seq: 7 });
  });

  it('an unchanged receipt keeps the state', () => {
    const s = run({ type: 'received', conversationId: 'c1', receipt: r('bob', 5, 3) });
    expect(receiptsReducer(s, { type: 'received', conversationId: 'c1', receipt: r('bob', 5, 3) })).toBe(s);
  });

  it('conversationRemoved and reset forget pointers', () => {
    const s = run({ type: 'received', conversationId: 'c1', receipt: r('bob', 5, 3) });
    expect(receiptsReducer(s, { type: 'conversationRemoved', conversationId: 'c1' }).byConversation).toEqual({});
    expect(receiptsReducer(s, { type: 'reset' })).toBe(initialReceiptsState);
  });
});

describe('tick states', () => {
  const stored = (seq: number) => ({ status: 'stored' as const, seq });

  it('pending → sent → delivered → read in a direct conversation', () => {
    expect(tickState({ status: 'pending', seq: null }, undefined, ['bob'])).toBe('pending');
    expect(tickState({ status: 'sent', seq: null }, undefined, ['bob'])).toBe('sent');
    expect(tickState(stored(4), undefined, ['bob'])).toBe('sent');
    const delivered = run({ type: 'received', conversationId: 'c1', receipt: r('bob', 4, 2) }).byConversation.c1;
    expect(tickState(stored(4), delivered, ['bob'])).toBe('delivered');
    expect(tickState(stored(5), delivered, ['bob'])).toBe('sent');
    const read = run({ type: 'received', conversationId: 'c1', receipt: r('bob', 4, 4) }).byConversation.c1;
    expect(tickState(stored(4), read, ['bob'])).toBe('read');
    expect(tickState(stored(3), read, ['bob'])).toBe('read');
  });

  it('failed wins over everything', () => {
    expect(tickState({ status: 'failed', seq: null }, undefined, ['bob'])).toBe('failed');
  });

  it('in a group, delivered and read need every other member', () => {
    const p = run(
      { type: 'received', conversationId: 'g', receipt: r('bob', 9, 9) },
      { type: 'received', conversationId: 'g', receipt: r('carol', 9, 2) },
    ).byConversation.g;
    expect(tickState(stored(5), p, ['bob', 'carol'])).toBe('delivered');
    expect(tickState(stored(2), p, ['bob', 'carol'])).toBe('read');
    expect(tickState(stored(5), p, ['bob', 'carol', 'dave'])).toBe('sent');
    expect(seenBy(5, p, ['bob', 'carol'])).toEqual(['bob']);
    expect(seenBy(2, p, ['bob', 'carol'])).toEqual(['bob', 'carol']);
  });

  it('a conversation with nobody else counts as read', () => {
    expect(tickState(stored(1), undefined, [])).toBe('read');
  });

  it('"Seen by" labels', () => {
    expect(seenByLabel([], false)).toBeNull();
    expect(seenByLabel(['Bob'], false)).toBe('Seen by Bob');
    expect(seenByLabel(['Bob', 'Carol'], true)).toBe('Seen by Bob and Carol');
    expect(seenByLabel(['A', 'B', 'C'], false)).toBe('Seen by A, B and C');
    expect(seenByLabel(['A', 'B', 'C', 'D'], false)).toBe('Seen by 4 people');
    expect(seenByLabel(['A', 'B', 'C', 'D'], true)).toBe('Seen by everyone');
  });
});
