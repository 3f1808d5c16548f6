import { describe, expect, it } from 'vitest';
import { BOB, CAROL, ME, user } from '../../test/fixtures';
import { insertMention, matchMembers, mentionParts, mentionQuery } from './mentions';

describe('mentionQuery', () => {
  it('finds the @word the caret is in, at the start or after a space', () => {
    expect(mentionQuery('@bo', 3)).toEqual({ start: 0, query: 'bo' });
    expect(mentionQuery('hi @', 4)).toEqual({ start: 3, query: '' });
    expect(mentionQuery('hi @car and', 7)).toEqual({ start: 3, query: 'car' });
  });

  it('not inside an address, after a space past the name, or past the caret', () => {
    expect(mentionQuery('mail a@b', 8)).toBeNull();
    expect(mentionQuery('@bob hi', 7)).toBeNull();
    expect(mentionQuery('no at here', 5)).toBeNull();
  });
});

describe('matchMembers', () => {
  const dan = user('dan', 'Dan Bobson');
  const members = [ME, BOB, CAROL, dan];

  it('username prefix first, then display name, then a later word; never me', () => {
    expect(matchMembers(members, 'bo', 'me').map((u) => u.id)).toEqual(['bob', 'dan']);
    expect(matchMembers(members, '', 'me').map((u) => u.id)).toEqual(['bob', 'carol', 'dan']);
    expect(matchMembers(members, 'me', 'me')).toEqual([]);
  });

  it('keeps to the limit', () => {
    expect(matchMembers(members, '', 'me', 2)).toHaveLength(2);
  });
});

describe('insertMention', () => {
  it('replaces the @query with the username and a space, keeping what follows', () => {
    expect(insertMention('hi @bo', { start: 3, query: 'bo' }, 6, 'bob')).toEqual({ text: 'hi @bob ', caret: 8 });
    expect(insertMention('hi @bo there', { start: 3, query: 'bo' }, 6, 'bob')).toEqual({ text: 'hi @bob there', caret: 8 });
  });
});

describe('mentionParts', () => {
  const names = new Map([
    ['bob', 'u-bob'],
    ['carol', 'u-carol'],
  ]);

  it('splits at the resolved mentions only', () => {
    expect(mentionParts('hey @bob and @zed, @carol.', names)).toEqual([
      { kind: 'text', text: 'hey ' },
      { kind: 'mention', text: '@bob', userId: 'u-bob' },
      { kind: 'text', text: ' and @zed, ' },
      { kind: 'mention', text: '@carol', userId: 'u-carol' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('an address or no known names stays text', () => {
    expect(mentionParts('mail bob@bob.com', names)).toEqual([{ kind: 'text', text: 'mail bob@bob.com' }]);
    expect(mentionParts('@bob', new Map())).toEqual([{ kind: 'text', text: '@bob' }]);
    expect(mentionParts('@BOB', names)).toEqual([{ kind: 'mention', text: '@BOB', userId: 'u-bob' }]);
  });
});
