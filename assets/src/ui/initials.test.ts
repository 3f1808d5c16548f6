import { describe, expect, it } from 'vitest';
import { avatarName, initialsOf } from './initials';

describe('initialsOf', () => {
  it.each([
    ['Ada Lovelace', 'AL'],
    ['ada', 'A'],
    ['  grace   brewster  hopper ', 'GH'],
    ['émile zola', 'ÉZ'],
    ['😀 smile', '😀S'],
    ['', ''],
  ])('%j → %j', (name, expected) => {
    expect(initialsOf(name)).toBe(expected);
  });
});

describe('avatarName', () => {
  it('drops emoji unless that is all there is', () => {
    expect(avatarName('Weekend trip 🏔️')).toBe('Weekend trip');
    expect(initialsOf(avatarName('Weekend trip 🏔️'))).toBe('WT');
    expect(avatarName('🎉 Party 👨‍👩‍👧')).toBe('Party');
    expect(avatarName('🎉')).toBe('🎉');
  });
});
