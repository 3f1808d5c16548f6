import { useEffect, useRef, useState } from 'react';
import { describeError, type ServerOverview } from '../../api';
import { formatBytes, formatRate, formatUptime, messageRate } from './format';
import { useServices } from '../services';

/** How often the panel samples the server while it is open; the rate is the last interval's. */
export const SERVER_SAMPLE_MS = 5000;

const REGISTRATION: Record<ServerOverview['registration'], string> = {
  open: 'Open to anyone',
  invite: 'Invite only',
  closed: 'Closed',
};

/**
 * The server: name, registration, version, uptime, storage, and the answering node's
 * connections and message rate (the same counters as its `/metrics`). The rate is the
 * difference of the accepted-messages counter between two samples, SERVER_SAMPLE_MS apart.
 */
export function ServerPanel() {
  const { api } = useServices();
  const [sample, setSample] = useState<ServerOverview | null>(null);
  const [rate, setRate] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const previous = useRef<ServerOverview | null>(null);

  useEffect(() => {
    let live = true;
    const poll = () =>
      api.admin.server().then(
        (next) => {
          if (!live) return;
          setRate(messageRate(previous.current, next));
          previous.current = next;
          setSample(next);
          setError(null);
        },
        (err: unknown) => live && setError(describeError(err)),
      );
    void poll();
    const timer = setInterval(() => void poll(), SERVER_SAMPLE_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);

  if (error && !sample) {
    return (
      <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
        {error}
      </p>
    );
  }
  if (!sample) return <p className="text-sm text-slate-500">Loading…</p>;

  const rows: Array<[string, string]> = [
    ['Name', sample.name],
    ['Registration', REGISTRATION[sample.registration] ?? sample.registration],
    ['Version', sample.version],
    ['Uptime', formatUptime(sample.uptime_secs)],
    ['Accounts', `${sample.users}${sample.disabled_users ? ` (${sample.disabled_users} disabled)` : ''}`],
    ['Database', formatBytes(sample.storage.database_bytes)],
    ['Media', sample.storage.media_bytes == null ? 'Cloudinary' : formatBytes(sample.storage.media_bytes)],
    ['Connected users', `${sample.connected_users} (${sample.connections} sockets)`],
    ['Message rate', formatRate(rate)],
    ['Messages since start', `${sample.messages_accepted_total} (${sample.messages_per_sec_since_start.toFixed(2)} msg/s on average)`],
  ];

  return (
    <div className="flex flex-col gap-2">
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
        {rows.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-slate-500 dark:text-slate-400">{k}</dt>
            <dd data-testid={`server-${k.toLowerCase().replace(/\s+/gu, '-')}`} className="font-medium">
              {v}
            </dd>
          </div>
        ))}
      </dl>
      <p className="text-xs text-slate-500 dark:text-slate-400">
        Connections and messages are counted by the node that answered, as on its /metrics.
      </p>
    </div>
  );
}
