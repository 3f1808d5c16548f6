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

describe('parseServerEvent: calls', () => {
  const call = {
    call_id: 'k',
    conversation_id: 'c',
    media: 'video',
    caller_id: 'a',
    callee_id: 'b',
    state: 'ringing',
    reason: null,
    caller_session: 's1',
    callee_session: null,
    created_at: 't',
    answered_at: null,
    ended_at: null,
  };

  it('accepts call.ringing, call.state and the relayed signaling', () => {
    expect(parseServerEvent(frame({ type: 'call.ringing', ...call }))).toEqual({ type: 'call.ringing', ...call, replaced_by: null });
    const ended = parseServerEvent(frame({ type: 'call.state', ...call, state: 'ended', reason: 'glare', replaced_by: 'k2' }));
    expect(ended).toMatchObject({ type: 'call.state', state: 'ended', reason: 'glare', replaced_by: 'k2' });
    expect(parseServerEvent(frame({ type: 'call.offer', call_id: 'k', from: 'a', sdp: 'v=0' }))).toEqual({
      type: 'call.offer',
      call_id: 'k',
      from: 'a',
      sdp: 'v=0',
    });
    expect(parseServerEvent(frame({ type: 'call.answer', call_id: 'k', from: 'b', sdp: 'v=0' }))?.type).toBe('call.answer');
    const candidate = { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' };
    expect(parseServerEvent(frame({ type: 'call.ice', call_id: 'k', from: 'a', candidate }))).toEqual({
      type: 'call.ice',
      call_id: 'k',
      from: 'a',
      candidate,
    });
    expect(parseServerEvent(frame({ type: 'call.ice', call_id: 'k', from: 'a', candidate: null }))).toMatchObject({ candidate: null });
  });

  it('fills the optional call fields a server may leave out', () => {
    const { reason: _r, callee_session: _c, answered_at: _a, ended_at: _e, ...bare } = call;
    expect(parseServerEvent(frame({ type: 'call.state', ...bare }))).toMatchObject({
      reason: null,
      callee_session: null,
      answered_at: null,
      ended_at: null,
      replaced_by: null,
    });
  });

  it('ready carries the current calls; absent (an older server) means none; broken entries are dropped', () => {
    const base = { type: 'ready', session_id: 's', server_time: 't', user: { id: 'u' } };
    expect(parseServerEvent(frame(base))).toMatchObject({ calls: [] });
    const e = parseServerEvent(frame({ ...base, calls: [call, { ...call, media: 'hologram' }, 'x'] }));
    expect(e).toMatchObject({ type: 'ready', calls: [{ call_id: 'k', state: 'ringing' }] });
    expect(e?.type === 'ready' && e.calls).toHaveLength(1);
  });

  it('errors keep the call_id of the frame that failed', () => {
    expect(parseServerEvent(frame({ type: 'error', code: 'call_not_found', message: 'no', call_id: 'k' }))).toMatchObject({
      code: 'call_not_found',
      call_id: 'k',
    });
  });

  it('drops call events without what the client needs', () => {
    for (const bad of [
      { type: 'call.state', ...call, state: 'exploded' },
      { type: 'call.state', ...call, media: 'smell' },
      { type: 'call.ringing', ...call, call_id: 7 },
      { type: 'call.ringing', ...call, caller_session: 5 },
      { type: 'call.offer', call_id: 'k', from: 'a' },
      { type: 'call.answer', call_id: 'k', from: 'a', sdp: 42 },
      { type: 'call.ice', call_id: 'k', from: 'a' },
      { type: 'call.ice', call_id: 'k', from: 'a', candidate: { sdpMid: '0' } },
      { type: 'call.ice', call_id: 'k', from: 'a', candidate: { candidate: 'c', sdpMLineIndex: -1 } },
    ]) {
      expect(parseServerEvent(frame(bad))).toBeNull();
    }
  });
});

describe('parseServerEvent: group calls (room.*)', () => {
  const room = {
    conversation_id: 'g',
    room_id: 'r',
    started_at: 't',
    participants: [{ user_id: 'u', joined_at: 't', audio_muted: true, video_muted: false, screen_sharing: false }],
  };

  it('room.state and room.joined carry the room; missing flags read as false', () => {
    expect(parseServerEvent(frame({ type: 'room.state', room }))).toEqual({ type: 'room.state', room });
    const bare = { ...room, participants: [{ user_id: 'u' }, { user: 'not a participant' }] };
    expect(parseServerEvent(frame({ type: 'room.joined', room: bare, max_video_kbps: 1500 }))).toEqual({
      type: 'room.joined',
      room: { ...room, participants: [{ user_id: 'u', joined_at: '', audio_muted: false, video_muted: false, screen_sharing: false }] },
      max_video_kbps: 1500,
    });
  });

  it('ready carries the live rooms; absent (an older server) means none', () => {
    const base = { type: 'ready', session_id: 's', server_time: 't', user: { id: 'u' } };
    expect(parseServerEvent(frame(base))).toMatchObject({ rooms: [] });
    expect(parseServerEvent(frame({ ...base, rooms: [room, { room_id: 'x' }] }))).toMatchObject({ rooms: [room] });
  });

  it('answer, slots, renegotiate, speakers and left', () => {
    const slots = [
      { mid: '3', user_id: 'u', source: 'camera' },
      { mid: '4', user_id: 'u', source: 'hologram' },
      { mid: 5, user_id: 'u', source: 'camera' },
    ];
    expect(parseServerEvent(frame({ type: 'room.answer', conversation_id: 'g', sdp: 'v=0', slots }))).toEqual({
      type: 'room.answer',
      conversation_id: 'g',
      sdp: 'v=0',
      slots: [{ mid: '3', user_id: 'u', source: 'camera' }],
    });
    expect(parseServerEvent(frame({ type: 'room.slots', conversation_id: 'g', slots: [] }))).toEqual({ type: 'room.slots', conversation_id: 'g', slots: [] });
    expect(parseServerEvent(frame({ type: 'room.renegotiate', conversation_id: 'g', audio: 3, video: 4 }))).toEqual({
      type: 'room.renegotiate',
      conversation_id: 'g',
      audio: 3,
      video: 4,
    });
    expect(parseServerEvent(frame({ type: 'room.speakers', conversation_id: 'g', speakers: [{ user_id: 'u', level: 1.4 }, { user_id: 'v' }] }))).toEqual({
      type: 'room.speakers',
      conversation_id: 'g',
      speakers: [{ user_id: 'u', level: 1 }],
    });
    expect(parseServerEvent(frame({ type: 'room.left', conversation_id: 'g', reason: 'node_lost' }))).toEqual({
      type: 'room.left',
      conversation_id: 'g',
      reason: 'node_lost',
    });
    expect(parseServerEvent(frame({ type: 'error', code: 'room_full', conversation_id: 'g' }))).toMatchObject({ conversation_id: 'g' });
  });

  it('drops room events without what the client needs', () => {
    for (const bad of [
      { type: 'room.state' },
      { type: 'room.state', room: { conversation_id: 'g' } },
      { type: 'room.answer', conversation_id: 'g' },
      { type: 'room.slots', conversation_id: 'g' },
      { type: 'room.renegotiate', conversation_id: 'g', audio: -1, video: 2 },
      { type: 'room.renegotiate', conversation_id: 'g', audio: 1.5, video: 2 },
      { type: 'room.speakers', conversation_id: 'g' },
      { type: 'room.left', reason: 'left' },
    ]) {
      expect(parseServerEvent(frame(bad))).toBeNull();
    }
  });
});

describe('charCount', () => {
  it('counts code points like the server', () => {
    expect(charCount('abc')).toBe(3);
    expect(charCount('👋🏽')).toBe(2);
    expect(charCount('é')).toBe(1);
  });
});
