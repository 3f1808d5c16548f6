/**
 * The connection-quality hint of one call: samples the peer connection's stats every
 * STATS_INTERVAL_MS, judges them (quality.ts) and publishes the result to the media view
 * when it changed.
 */
import type { CallEnv, CallScope } from './deps';
import type { MediaViewStore } from './mediaView';
import { assessQuality, type QualitySample, type StatsEntry } from './quality';

export const STATS_INTERVAL_MS = 2_000;

type SamplerEnv = Pick<CallEnv, 'setInterval' | 'clearInterval'>;

export class QualitySampler {
  private timer: unknown = null;
  private sample: QualitySample | null = null;

  constructor(
    private readonly call: CallScope,
    private readonly env: SamplerEnv,
    private readonly view: MediaViewStore,
  ) {}

  start(): void {
    this.timer = this.env.setInterval(() => void this.sampleOnce(), STATS_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer === null) return;
    this.env.clearInterval(this.timer);
    this.timer = null;
  }

  private async sampleOnce(): Promise<void> {
    const pc = this.call.pc;
    if (!pc || this.call.closed) return;
    try {
      const report = await pc.getStats();
      if (this.call.closed) return;
      const entries: StatsEntry[] = [];
      report.forEach((v: StatsEntry) => entries.push(v));
      const reading = assessQuality(entries, this.sample);
      this.sample = reading.sample;
      const v = this.view.get();
      if (v.quality !== reading.quality || v.rttMs !== reading.rttMs || v.lossPct !== reading.lossPct) {
        this.view.publish({ quality: reading.quality, rttMs: reading.rttMs, lossPct: reading.lossPct });
      }
    } catch {
      // A closing connection; the next sample (if any) tries again.
    }
  }
}
