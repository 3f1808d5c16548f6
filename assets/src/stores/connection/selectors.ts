import type { ConnectionState } from './reducer';

interface WithConnection {
  connection: ConnectionState;
}

export type Banner = { tone: 'offline' | 'reconnecting'; text: string } | null;

// Constants, so a selector read twice returns the same object (no re-render loop).
const OFFLINE: Banner = { tone: 'offline', text: 'You’re offline. Messages will be sent when you’re back.' };
const RECONNECTING: Banner = { tone: 'reconnecting', text: 'Reconnecting…' };

export const connectionSelectors = {
  status: (s: WithConnection) => s.connection.status,
  isOpen: (s: WithConnection) => s.connection.status === 'open',
  /** What the connection banner says, or null when there is nothing to say. */
  banner: (s: WithConnection): Banner => {
    switch (s.connection.status) {
      case 'offline':
        return OFFLINE;
      case 'reconnecting':
        return RECONNECTING;
      default:
        return null;
    }
  },
};
