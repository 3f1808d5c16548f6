/**
 * Connection slice: the state of the gateway's WebSocket, for the UI (a small banner) —
 * connecting (first attempt), open (`ready` received), reconnecting (lost, retrying with
 * backoff), offline (the browser says there is no network; it waits for it to return).
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts since the last `ready`. */
  attempt: number;
  /** Epoch ms of the next attempt while reconnecting, else null. */
  retryAt: number | null;
}

export const initialConnectionState: ConnectionState = { status: 'idle', attempt: 0, retryAt: null };

export type ConnectionAction =
  | { type: 'changed'; status: ConnectionStatus; attempt?: number; retryAt?: number | null }
  | { type: 'reset' };

export function connectionReducer(state: ConnectionState, action: ConnectionAction): ConnectionState {
  switch (action.type) {
    case 'changed': {
      const next: ConnectionState = {
        status: action.status,
        attempt: action.status === 'open' ? 0 : (action.attempt ?? state.attempt),
        retryAt: action.status === 'reconnecting' ? (action.retryAt ?? null) : null,
      };
      return next.status === state.status && next.attempt === state.attempt && next.retryAt === state.retryAt
        ? state
        : next;
    }
    case 'reset':
      return initialConnectionState;
  }
}
