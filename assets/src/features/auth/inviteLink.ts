/**
 * Invite links: `/invite/<code>` (the server serves the client for any such path) opens
 * sign-up with the code filled in. Once an account is made, the address goes back to `/`.
 */

const INVITE_PATH = /^\/invite\/([A-Za-z0-9_-]{1,64})\/?$/u;

/** The invite code in `pathname`, if it is an invite link. */
export function inviteCodeFromPath(pathname: string): string | null {
  return INVITE_PATH.exec(pathname)?.[1] ?? null;
}

export function inviteCodeFromUrl(): string | null {
  return typeof window === 'undefined' ? null : inviteCodeFromPath(window.location.pathname);
}

/** Leaves the invite link for the app's own address (after signing up or in). */
export function leaveInviteLink(): void {
  if (typeof window !== 'undefined' && inviteCodeFromPath(window.location.pathname)) {
    history.replaceState(null, '', '/');
  }
}
