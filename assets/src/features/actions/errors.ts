/** What the user reads when a change of a message fails (the server's error code). */
const TEXT: Record<string, string> = {
  forbidden: 'You cannot change this message.',
  message_deleted: 'That message was deleted.',
  edit_window_passed: 'It is too late to edit this message.',
  delete_window_passed: 'It is too late to delete this message.',
  too_many_reactions: 'This message has too many different reactions.',
  validation_failed: 'The message is empty, too long, or not a single emoji.',
  not_found: 'That message is not available any more.',
  timeout: 'No answer from the server.',
  rate_limited: 'Too many changes at once. Try again in a moment.',
};

export function changeErrorText(code: string): string {
  return TEXT[code] ?? 'The server could not do it. Try again.';
}

export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string'
    ? (err as { code: string }).code
    : 'unavailable';
}
