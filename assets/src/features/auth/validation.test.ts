import { describe, expect, it } from 'vitest';
import {
  normalizeUsername,
  validateDisplayName,
  validateNewPassword,
  validateSignIn,
  validateSignUp,
  validateUsername,
} from './validation';

describe('username', () => {
  it.each(['abc', 'ada.lovelace', 'a_b_9', 'x'.repeat(32), '  Ada  '])('accepts %j', (v) => {
    expect(validateUsername(v)).toBeNull();
  });
  it.each([
    ['', 'Enter a username.'],
    ['ab', 'Use at least 3 characters.'],
    ['x'.repeat(33), 'Use at most 32 characters.'],
    ['ada lovelace', 'Use only lowercase letters, digits, "_" and ".".'],
    ['ada-l', 'Use only lowercase letters, digits, "_" and ".".'],
    ['adé', 'Use only lowercase letters, digits, "_" and ".".'],
  ])('rejects %j', (v, msg) => {
    expect(validateUsername(v)).toBe(msg);
  });
  it('normalizes by trimming and lower-casing', () => {
    expect(normalizeUsername('  Ada.L ')).toBe('ada.l');
  });
});

describe('display name', () => {
  it('is trimmed and non-empty, at most 64 code points', () => {
    expect(validateDisplayName('   ')).not.toBeNull();
    expect(validateDisplayName(' Ada ')).toBeNull();
    expect(validateDisplayName('é'.repeat(64))).toBeNull();
    expect(validateDisplayName('😀'.repeat(64))).toBeNull(); // 128 UTF-16 units, 64 chars
    expect(validateDisplayName('x'.repeat(65))).toBe('Use at most 64 characters.');
  });
});

describe('password', () => {
  it('is 8 to 1024 characters, not trimmed', () => {
    expect(validateNewPassword('')).toBe('Choose a password.');
    expect(validateNewPassword('1234567')).toBe('Use at least 8 characters.');
    expect(validateNewPassword('        ')).toBeNull();
    expect(validateNewPassword('x'.repeat(1024))).toBeNull();
    expect(validateNewPassword('x'.repeat(1025))).toBe('Use at most 1024 characters.');
  });
});

describe('forms', () => {
  const ok = { username: 'ada', displayName: 'Ada', password: 'correct horse', inviteCode: '' };
  it('sign-up needs an invite code only in invite mode', () => {
    expect(validateSignUp(ok, false)).toEqual({});
    expect(validateSignUp(ok, true)).toEqual({ inviteCode: 'This server needs an invite code to sign up.' });
    expect(validateSignUp({ ...ok, inviteCode: ' abc ' }, true)).toEqual({});
  });
  it('sign-up reports every invalid field at once', () => {
    expect(Object.keys(validateSignUp({ username: '', displayName: '', password: '', inviteCode: '' }, true))).toEqual([
      'username',
      'displayName',
      'password',
      'inviteCode',
    ]);
  });
  it('sign-in only checks presence', () => {
    expect(validateSignIn({ username: 'Legacy-Name', password: 'x' })).toEqual({});
    expect(validateSignIn({ username: ' ', password: '' })).toEqual({
      username: 'Enter your username.',
      password: 'Enter your password.',
    });
  });
});
