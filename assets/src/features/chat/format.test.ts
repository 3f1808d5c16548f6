import { describe, expect, it } from 'vitest';
import { dayKey, dayLabel, formatListTime, formatTime, lastSeenLabel } from './format';

// Local times, so the expectations hold in any time zone.
const now = new Date(2026, 10, 28, 14, 30);
const iso = (...a: [number, number, number, number?, number?]) => new Date(a[0], a[1], a[2], a[3] ?? 12, a[4] ?? 0).toISOString();

describe('chat date formats', () => {
  it('dayKey is the local calendar day', () => {
    expect(dayKey(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
  });

  it('list times', () => {
    expect(formatListTime(iso(2026, 10, 28, 9, 5), now)).toBe(formatTime(iso(2026, 10, 28, 9, 5)));
    expect(formatListTime(iso(2026, 10, 27), now)).toBe('Yesterday');
    expect(formatListTime(iso(2026, 10, 24), now)).toMatch(/^\S+$/); // a short weekday
    expect(formatListTime(iso(2026, 1, 3), now)).toMatch(/3/);
    expect(formatListTime(iso(2024, 1, 3), now)).toMatch(/2024/);
    expect(formatListTime('nonsense', now)).toBe('');
  });

  it('day separators', () => {
    expect(dayLabel(iso(2026, 10, 28, 0, 1), now)).toBe('Today');
    expect(dayLabel(iso(2026, 10, 27, 23, 59), now)).toBe('Yesterday');
    expect(dayLabel(iso(2025, 5, 1), now)).toMatch(/2025/);
  });

  it('last seen', () => {
    expect(lastSeenLabel(null, now)).toBe('Offline');
    expect(lastSeenLabel(new Date(now.getTime() - 20_000).toISOString(), now)).toBe('Last seen just now');
    expect(lastSeenLabel(new Date(now.getTime() - 5 * 60_000).toISOString(), now)).toBe('Last seen 5 min ago');
    expect(lastSeenLabel(iso(2026, 10, 28, 8, 0), now)).toMatch(/^Last seen today at /);
    expect(lastSeenLabel(iso(2026, 10, 27, 8, 0), now)).toBe('Last seen yesterday');
  });
});
