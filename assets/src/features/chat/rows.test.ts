import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../stores';
import { unchanged } from '../../test/fixtures';
import { buildRows } from './rows';

const at = (d: number, h: number, m: number, s = 0) => new Date(2026, 10, d, h, m, s).toISOString();
let n = 0;
const msg = (sender: string, created_at: string, extra: Partial<ChatMessage> = {}): ChatMessage => {
  n += 1;
  return {
    key: `k${n}`,
    id: `m${n}`,
    client_id: null,
    conversation_id: 'c',
    seq: n,
    sender_id: sender,
    body: 'x',
    kind: 'text',
    created_at,
    status: 'stored',
    error: null,
    attachments: [],
    ...unchanged,
    ...extra,
  };
};

describe('buildRows', () => {
  it('one row per message, keyed by the message; a new day hangs below the day before', () => {
    const items = [msg('bob', at(27, 10, 0)), msg('bob', at(28, 9, 0)), msg('me', at(28, 9, 5))];
    const { rows, firstDay } = buildRows(items, [], 'me', new Date(2026, 10, 28, 12));
    expect(rows.map((r) => r.key)).toEqual(items.map((m) => m.key));
    expect(firstDay).toBe('Yesterday');
    expect(rows.map((r) => r.dayAfter)).toEqual(['Today', null, null]);
  });

  it('prepending older messages changes no existing row', () => {
    const now = new Date(2026, 10, 28, 12);
    const newer = [msg('bob', at(28, 9, 0)), msg('me', at(28, 9, 5))];
    const older = [msg('carol', at(27, 10, 0)), msg('carol', at(28, 8, 0))];
    const before = buildRows(newer, [], 'me', now).rows;
    const after = buildRows([...older, ...newer], [], 'me', now).rows.slice(older.length);
    expect(after).toEqual(before);
  });

  it('groups one sender’s messages within a minute', () => {
    const { rows } = buildRows(
      [
        msg('bob', at(28, 9, 0, 1)),
        msg('bob', at(28, 9, 0, 30)),
        msg('bob', at(28, 9, 1, 5)),
        msg('me', at(28, 9, 1, 6)),
        msg('me', at(28, 9, 1, 9)),
      ],
      [],
      'me',
    );
    expect(rows.map((r) => [r.first, r.last, r.own])).toEqual([
      [true, false, false],
      [false, true, false],
      [true, true, false],
      [true, false, true],
      [false, true, true],
    ]);
  });

  it('a new day starts a new group', () => {
    const { rows } = buildRows([msg('bob', at(27, 23, 59, 50)), msg('bob', at(28, 0, 0, 5))], [], 'me');
    expect(rows.map((r) => [r.first, r.last])).toEqual([
      [true, true],
      [true, true],
    ]);
  });

  it('pending messages come after stored ones and keep their key', () => {
    const { rows } = buildRows([msg('bob', at(28, 9, 0))], [msg('me', at(28, 9, 0), { key: 'client-1', status: 'pending', seq: null })], 'me');
    expect(rows.at(-1)).toMatchObject({ key: 'client-1', own: true });
  });

  it('a call record breaks a group and never joins one', () => {
    const items = [
      msg('bob', at(28, 9, 0, 1)),
      msg('bob', at(28, 9, 0, 2), { kind: 'call', body: 'Missed video call' }),
      msg('bob', at(28, 9, 0, 3)),
      msg('bob', at(28, 9, 0, 4)),
    ];
    const { rows } = buildRows(items, [], 'me');
    expect(rows.map((r) => [r.first, r.last])).toEqual([
      [true, true],
      [true, true],
      [true, false],
      [false, true],
    ]);
  });

  it('an empty thread has no rows', () => {
    expect(buildRows([], [], 'me')).toEqual({ rows: [], firstDay: null });
  });
});
