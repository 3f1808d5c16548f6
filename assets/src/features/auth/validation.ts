/**
 * Client-side checks that mirror the server's rules, so most mistakes are caught before a
 * round-trip. The server stays the authority: its problem `detail` is shown when it disagrees.
 * Lengths count Unicode code points, as the server counts `char`s.
 */

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const DISPLAY_NAME_MAX = 64;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
const USERNAME_CHARS = /^[a-z0-9_.]+$/;

const length = (s: string) => Array.from(s).length;

/** What the user typed, as the server will see it: trimmed and lower-cased. */
export function normalizeUsername(raw: string): string {
  return raw.trim().toLowerCase();
}

export function validateUsername(raw: string): string | null {
  const name = normalizeUsername(raw);
  if (!name) return 'Enter a username.';
  if (!USERNAME_CHARS.test(name)) return 'Use only lowercase letters, digits, "_" and ".".';
  if (length(name) < USERNAME_MIN) return `Use at least ${USERNAME_MIN} characters.`;
  if (length(name) > USERNAME_MAX) return `Use at most ${USERNAME_MAX} characters.`;
  return null;
}

export function validateDisplayName(raw: string): string | null {
  const name = raw.trim();
  if (!name) return 'Enter the name others will see.';
  if (length(name) > DISPLAY_NAME_MAX) return `Use at most ${DISPLAY_NAME_MAX} characters.`;
  return null;
}

export function validateNewPassword(raw: string): string | null {
  if (!raw) return 'Choose a password.';
  if (length(raw) < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (length(raw) > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  return null;
}

export function validateInviteCode(raw: string): string | null {
  return raw.trim() ? null : 'This server needs an invite code to sign up.';
}

/** Sign-in only checks presence: the server's rules may have changed since the account was made. */
export function validateRequired(raw: string, what: string): string | null {
  return raw.trim() ? null : `Enter your ${what}.`;
}

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

export interface SignUpValues {
  username: string;
  displayName: string;
  password: string;
  inviteCode: string;
}

export function validateSignUp(v: SignUpValues, needsInvite: boolean): FieldErrors<keyof SignUpValues> {
  const errors: FieldErrors<keyof SignUpValues> = {};
  const username = validateUsername(v.username);
  const displayName = validateDisplayName(v.displayName);
  const password = validateNewPassword(v.password);
  const invite = needsInvite ? validateInviteCode(v.inviteCode) : null;
  if (username) errors.username = username;
  if (displayName) errors.displayName = displayName;
  if (password) errors.password = password;
  if (invite) errors.inviteCode = invite;
  return errors;
}

export interface SignInValues {
  username: string;
  password: string;
}

export function validateSignIn(v: SignInValues): FieldErrors<keyof SignInValues> {
  const errors: FieldErrors<keyof SignInValues> = {};
  const username = validateRequired(v.username, 'username');
  const password = v.password ? null : 'Enter your password.';
  if (username) errors.username = username;
  if (password) errors.password = password;
  return errors;
}
