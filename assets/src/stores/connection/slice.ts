import type { StateCreator } from 'zustand';
import {
  connectionReducer,
  initialConnectionState,
  type ConnectionAction,
  type ConnectionState,
  type ConnectionStatus,
} from './reducer';

export interface ConnectionSlice {
  connection: ConnectionState;
  connectionChanged(status: ConnectionStatus, info?: { attempt?: number; retryAt?: number | null }): void;
  connectionReset(): void;
}

export const createConnectionSlice =
  <S extends ConnectionSlice>(): StateCreator<S, [], [], ConnectionSlice> =>
  (set) => {
    const dispatch = (action: ConnectionAction) =>
      set((s) => {
        const next = connectionReducer(s.connection, action);
        return (next === s.connection ? s : { connection: next }) as Partial<S>;
      });
    return {
      connection: initialConnectionState,
      connectionChanged: (status, info) => dispatch({ type: 'changed', status, ...info }),
      connectionReset: () => dispatch({ type: 'reset' }),
    };
  };
