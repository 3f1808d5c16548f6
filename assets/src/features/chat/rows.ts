/**
 * Turns a thread into the rows the message list virtualises: one row per message, keyed by
 * the message, so a row keeps its identity — and its height — when older pages are
 * prepended (the list anchors on the row at the top of the viewport).
 *
 * Day separators never sit above a row: the one that opens a day hangs below the last
 * message of the day before (`dayAfter`), and the first loaded day's label (`firstDay`) is
 * shown by the fixed-height block above the list. Prepending a page therefore only adds
 * rows above, and no existing row changes size.
 *
 * Groups: consecutive messages of one sender within the same minute share a group (the
 * name shows on the first, the corners join). Call records (`kind: "call"`) never join one.
 */
import type { ChatMessage } from '../../stores';
import { dayKey, dayLabel } from './format';

export interface Row {
  key: string;
  message: ChatMessage;
  own: boolean;
  /** First / last bubble of its group. */
  first: boolean;
  last: boolean;
  /** The separator below this message when the next one opens a new day ("Today"). */
  dayAfter: string | null;
  /** Messages not loaded yet follow this one (below a page loaded around a jump). */
  holeAfter: boolean;
}

export interface Rows {
  rows: Row[];
  /** The day of the first loaded message, shown above the list. */
  firstDay: string | null;
}

const minuteOf = (iso: string) => Math.floor(Date.parse(iso) / 60_000);

export function buildRows(
  items: readonly ChatMessage[],
  pending: readonly ChatMessage[],
  myId: string | null,
  now: Date = new Date(),
  holeAfter: number | null = null,
): Rows {
  const all = pending.length ? [...items, ...pending] : items;
  const rows: Row[] = [];
  let prevDay: string | null = null;
  let prev: Row | null = null;
  let firstDay: string | null = null;
  for (const m of all) {
    const day = dayKey(m.created_at);
    const newDay = day !== prevDay;
    if (newDay) {
      const label = dayLabel(m.created_at, now);
      if (prev) prev.dayAfter = label;
      else firstDay = label;
    }
    prevDay = day;
    // A call record stands alone: it neither joins a group of bubbles nor starts one.
    const continues =
      !newDay &&
      prev !== null &&
      !prev.holeAfter &&
      m.kind !== 'call' &&
      prev.message.kind !== 'call' &&
      prev.message.sender_id === m.sender_id &&
      minuteOf(prev.message.created_at) === minuteOf(m.created_at);
    if (prev && continues) prev.last = false;
    const hole = holeAfter !== null && m.seq === holeAfter;
    const row: Row = { key: m.key, message: m, own: m.sender_id === myId, first: !continues, last: true, dayAfter: null, holeAfter: hole };
    rows.push(row);
    prev = row;
  }
  return { rows, firstDay };
}
