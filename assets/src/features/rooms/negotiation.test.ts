import { describe, expect, it, vi } from 'vitest';
import type { ClientEvent } from '../../gateway/protocol';
import { realTimers } from '../../gateway/connection';
import { Negotiator } from './negotiation';
import { FakeRoomPeerConnection, flush, useRoomTestClock } from './testing';

useRoomTestClock();

function negotiator() {
  const pc = new FakeRoomPeerConnection({});
  const sent: ClientEvent[] = [];
  const up = { ok: true };
  const scope = { conversationId: 'g1', closed: false, pc: pc as unknown as RTCPeerConnection };
  const answered = vi.fn();
  const n = new Negotiator(
    scope,
    {
      prepare: (p) => void p.addTransceiver('video', { direction: 'recvonly' }),
      tracks: () => [],
      answered,
      send: (e) => (up.ok ? (sent.push(e), true) : false),
    },
    realTimers,
  );
  return { n, pc, sent, up, answered, scope };
}

describe('Negotiator: one offer in flight', () => {
  it('coalesces requests made while an offer is out into one offer after the answer', async () => {
    const { n, pc, sent, answered } = negotiator();
    n.request();
    n.request();
    await flush();
    expect(sent).toHaveLength(1);
    expect(n.offering).toBe(true);
    n.request();
    n.request();
    await flush();
    expect(sent).toHaveLength(1);
    expect(n.pending).toBe(true);
    n.answer('a1', [{ mid: '0', user_id: 'bob', source: 'camera' }]);
    await flush();
    expect(answered).toHaveBeenCalledWith([{ mid: '0', user_id: 'bob', source: 'camera' }]);
    expect(sent).toHaveLength(2);
    expect(pc.signalingState).toBe('have-local-offer');
    n.answer('a2', []);
    await flush();
    expect(sent).toHaveLength(2);
    expect(n.offering).toBe(false);
  });

  it('an offer the socket could not take is taken back and sent on resume; failed() retries after a moment', async () => {
    const { n, pc, sent, up } = negotiator();
    up.ok = false;
    n.request();
    await flush();
    expect(sent).toHaveLength(0);
    expect(pc.signalingState).toBe('stable');
    up.ok = true;
    n.resume();
    await flush();
    expect(sent).toHaveLength(1);
    n.failed();
    await flush();
    expect(pc.signalingState).toBe('stable');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(2);
  });

  it('does nothing once the session is closed', async () => {
    const { n, sent, scope } = negotiator();
    scope.closed = true;
    n.request();
    await flush();
    expect(sent).toEqual([]);
  });
});
