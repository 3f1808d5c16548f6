/** Pure helpers of the admin page: sizes, durations, the message rate, invite links. */
import type { ServerOverview } from '../../api';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (powers of 1024, one decimal below 10). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  const digits = u === 0 || v >= 10 ? 0 : 1;
  return `${v.toFixed(digits)} ${UNITS[u]}`;
}

/** 93784 → "1 d 2 h", 3720 → "1 h 2 min", 42 → "42 s". */
export function formatUptime(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

/**
 * Messages per second between two samples of the server panel: the difference of the
 * node's accepted-messages counter over the time between them. Null without two usable
 * samples (the first one, a restarted node whose counter went down, or no time between).
 */
export function messageRate(prev: ServerOverview | null, next: ServerOverview): number | null {
  if (!prev) return null;
  const dt = (next.sampled_at_ms - prev.sampled_at_ms) / 1000;
  const dn = next.messages_accepted_total - prev.messages_accepted_total;
  if (dt <= 0 || dn < 0) return null;
  return dn / dt;
}

export function formatRate(rate: number | null): string {
  if (rate === null) return '—';
  return `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} msg/s`;
}

/** The full invite link for `path` (`/invite/<code>`) on this origin. */
export function inviteLink(origin: string, path: string): string {
  return `${origin.replace(/\/$/u, '')}${path}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
