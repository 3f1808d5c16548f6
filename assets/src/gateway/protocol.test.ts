import { describe, expect, it } from 'vitest';
import { charCount, parseServerEvent } from './protocol';

const frame = (v: unknown) => JSON.stringify(v);

describe('parseServerEvent', () => {
  it('accepts the events of docs/protocol.md', () => {
    const message = { id: 'm', conversation_id: 'c', seq: 42, sender_id: 'u', body: 'Hello!', created_at: 't', client_id: 'k' };
    const events = [
      { type: 'ready', session_id: 's', server_time: 't', user: { id: 'u' }, presence: [] },
      { type: 'message.ack', client_id: 'k', id: 'm', conversation_id: 'c', created_at: 't' },
      { type: 'message.new', message },
      { type: 'typing', conversation_id: 'c', user_id: 'u', active: true },
      { type: 'presence', user_id: 'u', online: false, last_seen: 't' },
      { type: 'receipt', conversation_id: 'c', user_id: 'u', delivered_seq: 42, read_seq: 40 },
      { type: 'conversation.updated', conversation: { id: 'c' } },
      { type: 'conversation.removed', conversation_id: 'c' },
      { type: 'error', code: 'rate_limited', message: 'slow', client_id: 'k', retry_after_ms: 300 },
      { type: 'pong' },
    ];
    for (const e of events) expect(parseServerEvent(frame(e))?.type).toBe(e.type);
  });

  it('a ready without presence gets an empty list', () => {
    const e = parseServerEvent(frame({ type: 'ready', session_id: 's', server_time: 't', user: { id: 'u' } }));
    expect(e).toMatchObject({ type: 'ready', presence: [] });
  });

  it('ignores what it cannot use', () => {
    for (const bad of [
      'not json',
      frame([1, 2]),
      frame({ no: 'type' }),
      frame({ type: 'call.invite' }),
      frame({ type: 'message.new', message: { id: 'm', seq: '7' } }),
      frame({ type: 'receipt', conversation_id: 'c', user_id: 'u', delivered_seq: -1, read_seq: 0 }),
      frame({ type: 'typing', conversation_id: 'c', user_id: 'u' }),
    ]) {
      expect(parseServerEvent(bad)).toBeNull();
    }
    expect(parseServerEvent(new ArrayBuffer(2))).toBeNull();
  });
});

describe('charCount', () => {
  it('counts code points like the server', () => {
    expect(charCount('abc')).toBe(3);
    expect(charCount('👋🏽')).toBe(2);
    expect(charCount('é')).toBe(1);
  });
});
