/**
 * Server slice: what the server says about itself (`GET /api/v1/server`), which decides
 * whether sign-up is offered and whether it needs an invite code.
 */
import type { RegistrationMode, ServerInfo } from '../../api/types';

export interface ServerState {
  status: 'loading' | 'ready' | 'error';
  info: ServerInfo | null;
}

export const initialServerState: ServerState = { status: 'loading', info: null };

export type ServerAction =
  | { type: 'loaded'; info: ServerInfo }
  | { type: 'failed' }
  /** The server refused a registration as closed: believe it over our cached info. */
  | { type: 'registrationChanged'; registration: RegistrationMode };

export function serverReducer(state: ServerState, action: ServerAction): ServerState {
  switch (action.type) {
    case 'loaded':
      return { status: 'ready', info: action.info };
    case 'failed':
      // Keep what we knew; an unknown server is treated as open and lets the server decide.
      return { ...state, status: state.info ? 'ready' : 'error' };
    case 'registrationChanged':
      if (!state.info) return state;
      return { ...state, info: { ...state.info, registration: action.registration } };
  }
}
