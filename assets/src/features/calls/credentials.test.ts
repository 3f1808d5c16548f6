import { describe, expect, it, vi } from 'vitest';
import { BOB } from '../../test/fixtures';
import { BOB_SESSION, flush, setup, useCallTestClock, view } from './testing';

useCallTestClock();

describe('call ICE credentials', () => {
  it('fetches fresh TURN credentials at 80 % of their lifetime and hands them to the connection', async () => {
    const h = setup();
    h.controller.startCall('c1', BOB.id, 'video');
    await flush();
    h.store.getState().callsServerEvent('state', view({ state: 'connecting', callee_session: BOB_SESSION }));
    await flush();
    expect(h.iceServers).toHaveBeenCalledTimes(1);
    h.iceServers.mockResolvedValueOnce({ ice_servers: [{ urls: ['turn:example.org:3478'], username: 'u2', credential: 'c2' }], ttl: 600 });
    await vi.advanceTimersByTimeAsync(479_999);
    expect(h.iceServers).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.iceServers).toHaveBeenCalledTimes(2);
    expect(h.pc().getConfiguration().iceServers).toEqual([{ urls: ['turn:example.org:3478'], username: 'u2', credential: 'c2' }]);
    // After the call, no more fetching.
    h.controller.hangUp();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(h.iceServers).toHaveBeenCalledTimes(2);
  });
});
