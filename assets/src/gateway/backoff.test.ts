import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, FLOODING_MIN_MS } from './backoff';

describe('backoffDelay', () => {
  it('doubles per attempt, within [cap/2, cap]', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 0)).toBe(2000);
    expect(backoffDelay(3, () => 1)).toBe(4000);
  });

  it('is capped', () => {
    expect(backoffDelay(50, () => 1)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(backoffDelay(50, () => 0)).toBe(DEFAULT_BACKOFF.maxMs / 2);
  });

  it('jitters between clients', () => {
    const delays = new Set([0.1, 0.4, 0.9].map((r) => backoffDelay(4, () => r)));
    expect(delays.size).toBe(3);
  });

  it('respects a floor (flooding)', () => {
    expect(backoffDelay(0, () => 0, { ...DEFAULT_BACKOFF, minMs: FLOODING_MIN_MS })).toBe(FLOODING_MIN_MS);
  });
});
