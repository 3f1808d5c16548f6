import type { ConnectionState } from './reducer';

interface WithConnection {
  connection: ConnectionState;
}

export type Banner = { tone: 'offline' | 'reconnecting'; text: string } | null;

export const connectionSelectors = {
  status: (s: WithConnection) => s.connection.status,
  isOpen: (s: WithConnection) => s.connection.status === 'open',
  /** What the connection banner says, or null when there is nothing to say. */
  banner: (s: WithConnection): Banner => {
    switch (s.connection.status) {
      case 'offline':
        return { tone: 'offline', text: 'You’re offline. Messages will be sent when you’re back.' };
      case 'reconnecting':
        return { tone: 'reconnecting', text: 'Reconnecting…' };
      default:
        return null;
    }
  },
};
