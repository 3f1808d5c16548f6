/**
 * Turns a thread into the rows the message list virtualises: day separators, and bubbles
 * grouped by sender and minute (consecutive messages of one sender within the same minute
 * share a group: the name shows on the first, the corners join).
 */
import type { ChatMessage } from '../../stores';
import { dayKey, dayLabel } from './format';

export type Row =
  | { kind: 'day'; key: string; label: string }
  | {
      kind: 'message';
      key: string;
      message: ChatMessage;
      own: boolean;
      /** First / last bubble of its group. */
      first: boolean;
      last: boolean;
    };

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
  let prev: Extract<Row, { kind: 'message' }> | null = null;
  for (const m of all) {
    const day = dayKey(m.created_at);
    if (day !== prevDay) {
      rows.push({ kind: 'day', key: `day-${day}`, label: dayLabel(m.created_at, now) });
      prevDay = day;
      prev = null;
    }
    const continues = prev !== null && prev.message.sender_id === m.sender_id && minuteOf(prev.message.created_at) === minuteOf(m.created_at);
    if (prev && continues) prev.last = false;
    const row: Extract<Row, { kind: 'message' }> = {
      kind: 'message',
      key: m.key,
      message: m,
      own: m.sender_id === myId,
      first: !continues,
      last: true,
    };
    rows.push(row);
    prev = row;
  }
  return rows;
}
