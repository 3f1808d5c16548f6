import { describe, expect, it } from 'vitest';
import type { ServerOverview } from '../../api';
import { formatBytes, formatRate, formatUptime, inviteLink, messageRate } from './format';

const sample = (accepted: number, at: number): ServerOverview => ({
  name: 'N',
  version: '1',
  registration: 'open',
  uptime_secs: 1,
  users: 1,
  disabled_users: 0,
  storage: { database_bytes: 1, media_bytes: 0 },
  connections: 0,
  connected_users: 0,
  messages_accepted_total: accepted,
  messages_stored_total: accepted,
  messages_per_sec_since_start: 0,
  sampled_at_ms: at,
});

describe('admin format', () => {
  it('formats sizes in powers of 1024', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MB');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
  });

  it('formats uptimes', () => {
    expect(formatUptime(42)).toBe('42 s');
    expect(formatUptime(125)).toBe('2 min');
    expect(formatUptime(3720)).toBe('1 h 2 min');
    expect(formatUptime(93784)).toBe('1 d 2 h');
  });

  it('derives the message rate from two samples of the counter', () => {
    expect(messageRate(null, sample(10, 1000))).toBeNull();
    expect(messageRate(sample(10, 1000), sample(60, 6000))).toBe(10);
    expect(messageRate(sample(10, 1000), sample(10, 1000))).toBeNull(); // no time between
    expect(messageRate(sample(100, 1000), sample(5, 6000))).toBeNull(); // the node restarted
    expect(formatRate(null)).toBe('—');
    expect(formatRate(2.25)).toBe('2.3 msg/s');
    expect(formatRate(42.4)).toBe('42 msg/s');
  });

  it('builds invite links on this origin', () => {
    expect(inviteLink('https://chat.example/', '/invite/abc')).toBe('https://chat.example/invite/abc');
  });
});
