import { describe, expect, it } from 'vitest';
import { assessQuality, selectedCandidatePair, type StatsEntry } from './quality';

const transport = (pairId: string): StatsEntry => ({ id: 'T1', type: 'transport', selectedCandidatePairId: pairId });
const pair = (id: string, rttS: number | undefined, extra: Record<string, unknown> = {}): StatsEntry => ({
  id,
  type: 'candidate-pair',
  currentRoundTripTime: rttS,
  ...extra,
});
const inbound = (id: string, received: number, lost: number): StatsEntry => ({
  id,
  type: 'inbound-rtp',
  packetsReceived: received,
  packetsLost: lost,
});

describe('selectedCandidatePair', () => {
  it('follows the transport’s selectedCandidatePairId, not just any pair', () => {
    const entries = [pair('A', 0.9), pair('B', 0.02), transport('B')];
    expect(selectedCandidatePair(entries)?.id).toBe('B');
  });

  it('falls back to the pair flagged selected (Firefox), then a nominated succeeded one', () => {
    expect(selectedCandidatePair([pair('A', 0.1), pair('B', 0.1, { selected: true })])?.id).toBe('B');
    expect(selectedCandidatePair([pair('A', 0.1, { nominated: true, state: 'in-progress' }), pair('B', 0.1, { nominated: true, state: 'succeeded' })])?.id).toBe('B');
    expect(selectedCandidatePair([pair('A', 0.1)])).toBeNull();
  });
});

describe('assessQuality', () => {
  it('no selected pair yet: no verdict', () => {
    expect(assessQuality([pair('A', 0.01)], null).quality).toBeNull();
  });

  it('grades the round-trip time of the selected pair', () => {
    const at = (rtt: number) => assessQuality([transport('P'), pair('P', rtt)], null);
    expect(at(0.04)).toMatchObject({ quality: 'good', rttMs: 40 });
    expect(at(0.3)).toMatchObject({ quality: 'fair', rttMs: 300 });
    expect(at(0.8)).toMatchObject({ quality: 'poor', rttMs: 800 });
  });

  it('grades the packet loss since the previous sample, over every inbound stream', () => {
    const first = assessQuality([transport('P'), pair('P', 0.02), inbound('a', 1000, 0), inbound('v', 1000, 0)], null);
    expect(first).toMatchObject({ quality: 'good', lossPct: 0, sample: { packetsReceived: 2000, packetsLost: 0 } });
    // 100 received + 5 lost in the interval: ~4.8 % → fair.
    const fair = assessQuality([transport('P'), pair('P', 0.02), inbound('a', 1050, 2), inbound('v', 1050, 3)], first.sample);
    expect(fair.quality).toBe('fair');
    expect(fair.lossPct).toBeCloseTo(4.76, 1);
    // 20 lost of 100: poor, even with a fast path.
    const poor = assessQuality([transport('P'), pair('P', 0.02), inbound('a', 1090, 12), inbound('v', 1090, 13)], fair.sample);
    expect(poor.quality).toBe('poor');
    // Old losses do not count against a clean interval.
    const clean = assessQuality([transport('P'), pair('P', 0.02), inbound('a', 1190, 12), inbound('v', 1190, 13)], poor.sample);
    expect(clean).toMatchObject({ quality: 'good', lossPct: 0 });
  });

  it('no traffic in the interval is no loss; a missing RTT is not held against it', () => {
    const s = { packetsReceived: 10, packetsLost: 0 };
    expect(assessQuality([transport('P'), pair('P', undefined), inbound('a', 10, 0)], s)).toMatchObject({
      quality: 'good',
      rttMs: null,
      lossPct: null,
    });
  });
});
