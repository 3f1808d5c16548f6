import { isBusy, type CallRole, type CallsState } from './reducer';

interface WithCalls {
  calls: CallsState;
}

/** What the call screen says under the name. */
export function callStatusText(s: CallsState): string {
  switch (s.phase) {
    case 'idle':
      return '';
    case 'calling':
      return s.call?.serverState === 'ringing' ? 'Ringing' : 'Calling…';
    case 'receiving':
      return s.accepting ? 'Connecting…' : s.call?.media === 'video' ? 'Incoming video call' : 'Incoming audio call';
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return s.interrupted ? 'Reconnecting…' : 'Connected';
    case 'ended': {
      const why = endReasonLabel(s.endReason, s.call?.role ?? 'caller');
      return why ? `Call ended: ${why}` : 'Call ended';
    }
  }
}

/** Human wording for an end reason; null when a plain "Call ended" says it all. */
export function endReasonLabel(reason: string | null, role: CallRole): string | null {
  switch (reason) {
    case 'missed':
      // The caller waited in vain; the callee missed it.
      return role === 'caller' ? 'No answer' : 'Missed';
    case 'declined':
      return 'Declined';
    case 'busy':
      return 'Busy';
    case 'cancelled':
      return 'Cancelled';
    case 'failed':
      return 'Call failed';
    case 'connection_lost':
      return 'Connection lost';
    case 'answered_elsewhere':
      return 'Answered on another device';
    default:
      // hangup, glare (never shown), unknown or newer reasons
      return null;
  }
}

/** m:ss, or h:mm:ss past an hour. */
export function formatCallDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${String(m).padStart(2, '0')}:${sec}`;
}

/**
 * Local epoch ms at which the call timer starts: the server's `answered_at` (moved onto
 * the local clock with the offset learnt from `ready`), else when the media connected here.
 */
export function callStartedAt(s: CallsState): number | null {
  const answered = s.call?.answeredAt ? Date.parse(s.call.answeredAt) : NaN;
  if (Number.isFinite(answered)) return answered - s.clockOffsetMs;
  return s.connectedAt;
}

export const callsSelectors = {
  state: (s: WithCalls) => s.calls,
  phase: (s: WithCalls) => s.calls.phase,
  call: (s: WithCalls) => s.calls.call,
  isBusy: (s: WithCalls) => isBusy(s.calls),
  /** Whether a new call may be started here: nothing going on, on this device or another. */
  canStart: (s: WithCalls) => !isBusy(s.calls) && s.calls.phase !== 'ended' && s.calls.elsewhere === null,
  elsewhere: (s: WithCalls) => s.calls.elsewhere,
  sessionId: (s: WithCalls) => s.calls.sessionId,
};
