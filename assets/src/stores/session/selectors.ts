import type { SessionState } from './reducer';

interface WithSession {
  session: SessionState;
}

export const sessionSelectors = {
  status: (s: WithSession) => s.session.status,
  user: (s: WithSession) => s.session.user,
  accessToken: (s: WithSession) => s.session.accessToken,
  isAuthenticated: (s: WithSession) => s.session.status === 'authenticated',
  isResolved: (s: WithSession) => s.session.status !== 'unknown',
  displayName: (s: WithSession) => s.session.user?.display_name ?? '',
};
