/**
 * Reconnect delays: exponential with jitter, so a server restart is not met by every
 * client at the same instant. The delay for attempt n (0-based) is drawn from
 * [cap/2, cap] where cap = min(max, base · 2ⁿ) ("equal jitter": never 0, never in lockstep).
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** A floor for this attempt (e.g. after the server closed us for flooding). */
  minMs?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };
/** After close code 4029 (flooding) the client waits at least this long. */
export const FLOODING_MIN_MS = 15_000;

export function backoffDelay(attempt: number, random: () => number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = opts.baseMs * 2 ** Math.min(Math.max(attempt, 0), 20);
  const cap = Math.min(opts.maxMs, exp);
  const jittered = cap / 2 + (cap / 2) * random();
  return Math.round(Math.max(opts.minMs ?? 0, jittered));
}
