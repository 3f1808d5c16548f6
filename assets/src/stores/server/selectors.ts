import type { RegistrationMode } from '../../api/types';
import type { ServerState } from './reducer';

interface WithServer {
  server: ServerState;
}

export const DEFAULT_SERVER_NAME = 'Nexus';

export const serverSelectors = {
  name: (s: WithServer) => s.server.info?.name || DEFAULT_SERVER_NAME,
  version: (s: WithServer) => s.server.info?.version ?? null,
  /** Unknown (info not loaded) counts as open: the server still has the last word. */
  registration: (s: WithServer): RegistrationMode => s.server.info?.registration ?? 'open',
  canSignUp: (s: WithServer) => (s.server.info?.registration ?? 'open') !== 'closed',
  /** No account exists yet: the next sign-up makes the administrator, with no code. */
  setupRequired: (s: WithServer) => s.server.info?.setup_required === true,
  needsInvite: (s: WithServer) => s.server.info?.registration === 'invite' && !s.server.info?.setup_required,
};
