import { describe, expect, it, vi } from 'vitest';
import { STATS_INTERVAL_MS } from './qualitySampler';
import { outgoingConnecting, setup, useCallTestClock } from './testing';

useCallTestClock();

describe('call quality sampler', () => {
  it('samples getStats every 2 s into the quality hint', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.pc().stats = [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', currentRoundTripTime: 0.6 },
    ];
    await vi.advanceTimersByTimeAsync(STATS_INTERVAL_MS);
    expect(h.controller.getMedia()).toMatchObject({ quality: 'poor', rttMs: 600 });
    h.controller.hangUp();
    expect(h.controller.getMedia().quality).toBeNull();
  });
});
