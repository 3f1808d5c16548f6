/**
 * Turns a thread into the rows the message list virtualises: one row per message, keyed by
 * the message (so a row keeps its identity when older pages are prepended — the list
 * anchors on it), carrying the day separator above it when it opens a day, and its place in
 * a group: consecutive messages of one sender within the same minute share a group (the
 * name shows on the first, the corners join).
 */
import type { ChatMessage } from '../../stores';
import { dayKey, dayLabel } from './format';

export interface Row {
  key: string;
  message: ChatMessage;
  own: boolean;
  /** The day separator shown above this message ("Today"), when it is the first of its day. */
  day: string | null;
  /** First / last bubble of its group. */
  first: boolean;
  last: boolean;
}

const minuteOf = (iso: string) => Math.floor(Date.parse(iso) / 60_000);

export function buildRows(
  items: readonly ChatMessage[],
  pending: readonly ChatMessage[],
  myId: string | null,
  now: Date = new Date(),
): Row[] {
  const all = pending.length ? [...items, ...pending] : items;
  const rows: Row[] = [];
  let prevDay: string | null = null;
  let prev: Row | null = null;
  for (const m of all) {
    const day = dayKey(m.created_at);
    const newDay = day !== prevDay;
    prevDay = day;
    const continues =
      !newDay && prev !== null && prev.message.sender_id === m.sender_id && minuteOf(prev.message.created_at) === minuteOf(m.created_at);
    if (prev && continues) prev.last = false;
    const row: Row = {
      key: m.key,
      message: m,
      own: m.sender_id === myId,
      day: newDay ? dayLabel(m.created_at, now) : null,
      first: !continues,
      last: true,
    };
    rows.push(row);
    prev = row;
  }
  return rows;
}
