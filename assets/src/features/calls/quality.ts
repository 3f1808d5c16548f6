/**
 * The connection-quality hint of the call screen, from `RTCPeerConnection.getStats()`
 * sampled every 2 s: the round-trip time of the selected ICE candidate pair and the packet
 * loss of what we receive since the previous sample. Pure, so it is unit-tested.
 */

export type Quality = 'good' | 'fair' | 'poor';

/** One stats object (an RTCStats dictionary) as the report yields it. */
export type StatsEntry = { type: string; id: string } & Record<string, unknown>;

/** Cumulative receive counters of one sample, to measure loss over the next interval. */
export interface QualitySample {
  packetsLost: number;
  packetsReceived: number;
}

export interface QualityReading {
  /** null: no selected candidate pair yet (still connecting). */
  quality: Quality | null;
  rttMs: number | null;
  /** Lost / expected over the interval since `prev`, in percent; null without traffic. */
  lossPct: number | null;
  sample: QualitySample;
}

/** Above either bound the hint drops a step. */
export const QUALITY_BOUNDS = {
  fair: { rttMs: 250, lossPct: 3 },
  poor: { rttMs: 500, lossPct: 10 },
} as const;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The candidate pair ICE is using: the transport's `selectedCandidatePairId`, else the one flagged selected/nominated. */
export function selectedCandidatePair(entries: readonly StatsEntry[]): StatsEntry | null {
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const e of entries) {
    if (e.type === 'transport' && typeof e.selectedCandidatePairId === 'string') {
      const pair = byId.get(e.selectedCandidatePairId);
      if (pair) return pair;
    }
  }
  return (
    entries.find((e) => e.type === 'candidate-pair' && e.selected === true) ??
    entries.find((e) => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded') ??
    null
  );
}

export function assessQuality(report: Iterable<StatsEntry>, prev: QualitySample | null): QualityReading {
  const entries = Array.from(report);
  const pair = selectedCandidatePair(entries);
  const rttS = pair ? num(pair.currentRoundTripTime) : null;
  const rttMs = rttS === null ? null : Math.round(rttS * 1000);

  let packetsLost = 0;
  let packetsReceived = 0;
  for (const e of entries) {
    if (e.type !== 'inbound-rtp') continue;
    packetsLost += Math.max(0, num(e.packetsLost) ?? 0);
    packetsReceived += num(e.packetsReceived) ?? 0;
  }
  const sample = { packetsLost, packetsReceived };

  let lossPct: number | null = null;
  if (prev) {
    const lost = Math.max(0, packetsLost - prev.packetsLost);
    const received = Math.max(0, packetsReceived - prev.packetsReceived);
    if (lost + received > 0) lossPct = (lost / (lost + received)) * 100;
  } else if (packetsLost + packetsReceived > 0) {
    lossPct = (packetsLost / (packetsLost + packetsReceived)) * 100;
  }

  if (!pair) return { quality: null, rttMs, lossPct, sample };
  const rtt = rttMs ?? 0;
  const loss = lossPct ?? 0;
  let quality: Quality = 'good';
  if (rtt > QUALITY_BOUNDS.poor.rttMs || loss > QUALITY_BOUNDS.poor.lossPct) quality = 'poor';
  else if (rtt > QUALITY_BOUNDS.fair.rttMs || loss > QUALITY_BOUNDS.fair.lossPct) quality = 'fair';
  return { quality, rttMs, lossPct, sample };
}

export const QUALITY_LABEL: Record<Quality, string> = { good: 'Good', fair: 'Fair', poor: 'Poor' };
