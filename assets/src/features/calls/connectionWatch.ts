/**
 * Keeping one call's connection: follows the peer connection's states. `connected` sends
 * `call.connected` (once) and clears an interruption; `disconnected` / `failed` after the
 * first connect show the call as interrupted. ICE that stays disconnected or failed for
 * ICE_RESTART_AFTER_MS is restarted, and again every as long while it lasts; a connection
 * that stays `failed` for FAILED_HANGUP_AFTER_MS hangs up with reason `failed`.
 */
import type { CallEnv, CallScope } from './deps';

/** ICE disconnected/failed for this long → ICE restart (and again every as long while it lasts). */
export const ICE_RESTART_AFTER_MS = 2_000;
/** A connection `failed` that no restart brings back within this → `call.hangup {reason: failed}`. */
export const FAILED_HANGUP_AFTER_MS = 10_000;

type WatchEnv = Pick<CallEnv, 'store' | 'gateway' | 'timers'>;

export class ConnectionWatch {
  private sentConnected = false;
  private connectedOnce = false;
  private iceTimer: unknown = null;
  private failTimer: unknown = null;

  constructor(
    private readonly call: CallScope,
    private readonly env: WatchEnv,
    private readonly restartIce: () => void,
  ) {}

  /** Whether the media has flowed at least once in this call. */
  get everConnected(): boolean {
    return this.connectedOnce;
  }

  connectionStateChanged(): void {
    const call = this.call;
    const pc = call.pc;
    if (!pc || call.closed) return;
    const state = this.env.store.getState();
    switch (pc.connectionState) {
      case 'connected':
        this.clearFailTimer();
        this.connectedOnce = true;
        if (!this.sentConnected) {
          this.sentConnected = this.env.gateway.send({ type: 'call.connected', call_id: call.callId });
        }
        state.callsMediaConnected(call.callId);
        return;
      case 'disconnected':
        if (this.connectedOnce) state.callsMediaInterrupted(call.callId, true);
        return;
      case 'failed':
        if (this.connectedOnce) state.callsMediaInterrupted(call.callId, true);
        this.restartIce();
        if (this.failTimer === null) {
          this.failTimer = this.env.timers.setTimeout(() => {
            this.failTimer = null;
            if (call.closed || call.pc?.connectionState === 'connected') return;
            this.env.gateway.send({ type: 'call.hangup', call_id: call.callId, reason: 'failed' });
            this.env.store.getState().callsEndedLocally(call.callId, 'failed');
          }, FAILED_HANGUP_AFTER_MS);
        }
        return;
      default:
        return;
    }
  }

  iceStateChanged(): void {
    const pc = this.call.pc;
    if (!pc || this.call.closed) return;
    const state = pc.iceConnectionState;
    if (state === 'disconnected' || state === 'failed') {
      if (this.iceTimer === null) this.watchIce();
    } else if (state === 'connected' || state === 'completed') {
      this.clearIceTimer();
    }
  }

  /** Cancels both timers (teardown). */
  stop(): void {
    this.clearIceTimer();
    this.clearFailTimer();
  }

  /** While ICE stays down, restart it every ICE_RESTART_AFTER_MS. */
  private watchIce(): void {
    this.iceTimer = this.env.timers.setTimeout(() => {
      this.iceTimer = null;
      const state = this.call.pc?.iceConnectionState;
      if (this.call.closed || (state !== 'disconnected' && state !== 'failed')) return;
      this.restartIce();
      this.watchIce();
    }, ICE_RESTART_AFTER_MS);
  }

  private clearIceTimer(): void {
    if (this.iceTimer !== null) this.env.timers.clearTimeout(this.iceTimer);
    this.iceTimer = null;
  }

  private clearFailTimer(): void {
    if (this.failTimer !== null) this.env.timers.clearTimeout(this.failTimer);
    this.failTimer = null;
  }
}
