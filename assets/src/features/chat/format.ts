/** Dates and times as the chat shows them, in the user's locale and time zone. `now` keeps them testable. */

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayShort = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const weekdayLong = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const longDate = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const longDateThisYear = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });

const DAY_MS = 86_400_000;

/** Local calendar day of a time, as a sortable key ("2026-11-28"). */
export function dayKey(time: Date | string | number): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Whole local days between two times (0 = same day, 1 = yesterday). */
function daysBetween(earlier: Date, later: Date): number {
  const a = new Date(earlier.getFullYear(), earlier.getMonth(), earlier.getDate());
  const b = new Date(later.getFullYear(), later.getMonth(), later.getDate());
  return Math.round((b.getTime() - a.getTime()) / DAY_MS);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : timeFmt.format(d);
}

/** For the conversation list: "14:05", "Yesterday", "Tue", "28 Nov", "28 Nov 2024". */
export function formatListTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const days = daysBetween(d, now);
  if (days <= 0) return timeFmt.format(d);
  if (days === 1) return 'Yesterday';
  if (days < 7) return weekdayShort.format(d);
  if (d.getFullYear() === now.getFullYear()) return dayMonth.format(d);
  return fullDate.format(d);
}

/** For day separators: "Today", "Yesterday", "Tuesday", "Friday, 28 November". */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const days = daysBetween(d, now);
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days < 7) return weekdayLong.format(d);
  if (d.getFullYear() === now.getFullYear()) return longDateThisYear.format(d);
  return longDate.format(d);
}

/** "Last seen just now", "Last seen 5 min ago", "Last seen today at 14:05", "Last seen yesterday", … */
export function lastSeenLabel(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return 'Offline';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return 'Offline';
  const mins = Math.floor((now.getTime() - d.getTime()) / 60_000);
  if (mins < 1) return 'Last seen just now';
  if (mins < 60) return `Last seen ${mins} min ago`;
  const days = daysBetween(d, now);
  if (days <= 0) return `Last seen today at ${timeFmt.format(d)}`;
  if (days === 1) return 'Last seen yesterday';
  return `Last seen ${formatListTime(iso, now)}`;
}
