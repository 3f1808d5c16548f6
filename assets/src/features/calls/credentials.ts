/**
 * The ICE servers of one call and their renewal. TURN credentials are short-lived and only
 * make new allocations while they are valid, so an ICE restart late in a call needs fresh
 * ones: they are fetched again at 80 % of their lifetime and handed to the connection
 * (existing allocations live on; the server refreshes them). A failed renewal tries again
 * in a minute.
 */
import type { CallEnv, CallScope } from './deps';

type CredentialsEnv = Pick<CallEnv, 'iceServers' | 'timers'>;

export class CredentialRefresh {
  private timer: unknown = null;

  constructor(
    private readonly call: Pick<CallScope, 'closed' | 'pc'>,
    private readonly env: CredentialsEnv,
  ) {}

  /** The ICE servers for a new connection (none if they cannot be had), renewal scheduled. */
  async initial(): Promise<RTCIceServer[]> {
    try {
      const answer = await this.env.iceServers();
      this.refreshLater(answer.ttl);
      return answer.ice_servers;
    } catch {
      // Without STUN/TURN the call can still connect on a shared network.
      console.warn('calls: could not fetch the ICE servers');
      return [];
    }
  }

  /** Cancels the renewal (teardown). */
  stop(): void {
    if (this.timer !== null) this.env.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private refreshLater(ttlSecs: number): void {
    if (!(ttlSecs > 0)) return;
    this.stop();
    const call = this.call;
    this.timer = this.env.timers.setTimeout(() => {
      this.timer = null;
      if (call.closed) return;
      this.env.iceServers().then(
        (answer) => {
          const pc = call.pc;
          if (call.closed || !pc) return;
          try {
            pc.setConfiguration({ ...pc.getConfiguration(), iceServers: answer.ice_servers });
          } catch {
            // A configuration the browser refuses keeps the old one.
          }
          this.refreshLater(answer.ttl);
        },
        () => this.refreshLater(60),
      );
    }, Math.max(10, ttlSecs * 0.8) * 1000);
  }
}
