import type { StateCreator } from 'zustand';
import type { RegistrationMode, ServerInfo } from '../../api/types';
import { initialServerState, serverReducer, type ServerAction, type ServerState } from './reducer';

export interface ServerSlice {
  server: ServerState;
  serverLoaded(info: ServerInfo): void;
  serverFailed(): void;
  serverRegistrationChanged(registration: RegistrationMode): void;
}

export const createServerSlice = <S extends ServerSlice>(): StateCreator<S, [], [], ServerSlice> =>
  (set) => {
    const dispatch = (action: ServerAction) =>
      set((s) => ({ server: serverReducer(s.server, action) }) as Partial<S>);
    return {
      server: initialServerState,
      serverLoaded: (info) => dispatch({ type: 'loaded', info }),
      serverFailed: () => dispatch({ type: 'failed' }),
      serverRegistrationChanged: (registration) => dispatch({ type: 'registrationChanged', registration }),
    };
  };
