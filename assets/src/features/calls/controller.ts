/**
 * The call controller: the one call of the tab, driven by the calls slice (the state
 * machine) and by the signaling the gateway relays. What the UI calls lives here; each
 * call's media, connection and signaling live in its CallSession (session.ts).
 *
 * - The caller asks for media as it invites; the callee only after the user accepts (and
 *   rejects the call if that fails). Video calls fall back to audio when there is no camera
 *   (localMedia.ts).
 * - When the call reaches `connecting`, the ICE servers (short-lived TURN credentials,
 *   renewed during the call: credentials.ts) are fetched, the peer connection is created
 *   (peer.ts), and the caller sends the offer; the callee answers. Candidates trickle both
 *   ways (`call.ice`); remote ones that arrive before the remote description are buffered
 *   (signaling.ts).
 * - `call.connected` goes out once the connection is `connected`; ICE restarts and the
 *   `failed` hang-up are connectionWatch.ts. The browser coming back online restarts ICE
 *   too. Either side may restart: the callee is the polite peer when offers cross.
 * - After a gateway reconnect the socket rejoins the call (client.ts); offers that could not
 *   be sent meanwhile are sent again.
 * - Ended or idle: the session's `close` is the one teardown path.
 * - Tests and the browser tests look in through `options.observer` (deps.ts).
 */
import type { CallGatewayEvent } from '../../gateway/client';
import type { CallMedia } from '../../gateway/protocol';
import type { AppState } from '../../stores';
import type { CallRole } from '../../stores/calls/reducer';
import { callsSelectors } from '../../stores/calls/selectors';
import { connectionSelectors } from '../../stores/connection/selectors';
import { resolveEnv, type CallControllerOptions, type CallEnv } from './deps';
import { MediaViewStore, type CallMediaView } from './mediaView';
import { CallSession } from './session';

export type { CallControllerOptions, CallGateway, CallNotifier } from './deps';
export type { CallMediaView } from './mediaView';

/** How long "Call ended: …" stays before the screen goes away. */
export const ENDED_NOTICE_MS = 2_000;

export class CallController {
  private readonly env: CallEnv;
  private readonly view = new MediaViewStore();
  private session: CallSession | null = null;
  private endedTimer: { callId: string; handle: unknown } | null = null;
  private unsubscribers: (() => void)[] = [];

  constructor(options: CallControllerOptions) {
    this.env = resolveEnv(options);
  }

  private get state(): AppState {
    return this.env.store.getState();
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  start(): void {
    if (this.unsubscribers.length) return;
    this.unsubscribers = [
      this.env.store.subscribe((s, prev) => this.reconcile(s, prev)),
      this.env.gateway.onCallEvent((e) => this.onGatewayEvent(e)),
      this.env.onOnline?.(() => this.session?.networkChanged()) ?? (() => undefined),
    ];
  }

  stop(): void {
    for (const u of this.unsubscribers) u();
    this.unsubscribers = [];
    this.teardown();
    this.clearEndedTimer();
  }

  /** The page is going away: leave the call properly rather than let it time out. */
  leave(): void {
    const s = this.state.calls;
    if (s.call && (s.phase === 'calling' || s.phase === 'connecting' || s.phase === 'connected')) {
      this.env.gateway.send({ type: 'call.hangup', call_id: s.call.id, reason: 'hangup' });
    }
    this.teardown();
  }

  // ---- what the UI calls ---------------------------------------------------------------------

  /** Starts a call in a direct conversation. Returns false if one cannot be started now. */
  startCall(conversationId: string, peerId: string, media: CallMedia): boolean {
    if (!callsSelectors.canStart(this.state) || !connectionSelectors.isOpen(this.state)) return false;
    this.clearEndedTimer();
    const callId = this.env.newCallId();
    this.state.callsInvited(callId, conversationId, media, peerId);
    if (!this.env.gateway.send({ type: 'call.invite', call_id: callId, conversation_id: conversationId, media })) {
      this.state.callsEndedLocally(callId, 'failed');
      this.env.notify.error('Could not start the call', 'You are not connected to the server.');
      return false;
    }
    // Ask for the camera/microphone while it rings.
    const session = this.newSession(callId, media, 'caller');
    session.localMedia.request((stream) => {
      if (!stream && !session.closed && this.isCurrent(session)) {
        this.env.gateway.send({ type: 'call.hangup', call_id: callId, reason: 'hangup' });
        this.state.callsEndedLocally(callId, 'failed');
      }
      return stream;
    });
    return true;
  }

  /** Accepts the incoming call: media first (the browser may ask), then `call.accept`. */
  accept(): void {
    const s = this.state.calls;
    if (s.phase !== 'receiving' || !s.call || s.accepting) return;
    const { id: callId, media } = s.call;
    this.state.callsAccepting(callId);
    const session = this.newSession(callId, media, 'callee');
    session.localMedia.request((stream) => {
      if (session.closed || !this.isCurrent(session)) return stream;
      if (!stream) {
        this.env.gateway.send({ type: 'call.reject', call_id: callId });
        this.state.callsDeclined(callId);
        return null;
      }
      if (!this.env.gateway.send({ type: 'call.accept', call_id: callId })) {
        this.env.notify.error('Could not answer the call', 'You are not connected to the server.');
        this.state.callsEndedLocally(callId, 'failed');
        return stream;
      }
      this.state.callsAccepted(callId);
      return stream;
    });
  }

  decline(): void {
    const s = this.state.calls;
    if (s.phase !== 'receiving' || !s.call) return;
    this.env.gateway.send({ type: 'call.reject', call_id: s.call.id });
    this.state.callsDeclined(s.call.id);
  }

  /** Hangs up (or cancels an outgoing call that has not been answered). */
  hangUp(): void {
    const s = this.state.calls;
    if (!s.call) return;
    if (s.phase === 'receiving') {
      if (s.accepting) {
        this.env.gateway.send({ type: 'call.reject', call_id: s.call.id });
        this.state.callsDeclined(s.call.id);
      } else this.decline();
      return;
    }
    if (s.phase !== 'calling' && s.phase !== 'connecting' && s.phase !== 'connected') return;
    this.env.gateway.send({ type: 'call.hangup', call_id: s.call.id, reason: 'hangup' });
    this.state.callsEndedLocally(s.call.id, s.phase === 'calling' ? 'cancelled' : 'hangup');
  }

  toggleMic(): void {
    const id = this.state.calls.call?.id;
    if (id) this.state.callsMicToggled(id);
  }

  toggleCamera(): void {
    const id = this.state.calls.call?.id;
    if (id) this.state.callsCameraToggled(id);
  }

  /** The media view (streams and quality) for the UI, as an external store. */
  subscribe = (listener: () => void): (() => void) => this.view.subscribe(listener);

  getMedia = (): CallMediaView => this.view.get();

  // ---- following the state machine -------------------------------------------------------------

  private reconcile(s: AppState, prev: AppState): void {
    const now = s.calls;
    const before = prev.calls;
    if (now === before) return;

    if (now.notice && now.notice !== before.notice) this.env.notify.info('Answered on another device');

    let session = this.session;
    // Glare: our invite was merged into the peer's call; the same camera goes on with it.
    if (session && now.call && now.call.id !== session.callId && before.phase === 'calling' && now.phase === 'connecting' && now.call.conversationId === before.call?.conversationId) {
      session.rebind(now.call);
    }

    const live = now.call && (now.phase === 'calling' || now.phase === 'receiving' || now.phase === 'connecting' || now.phase === 'connected');
    if (session && (!live || now.call!.id !== session.callId)) {
      this.teardown();
      session = null;
    }

    if (now.phase === 'ended' && now.call && this.endedTimer?.callId !== now.call.id) {
      this.clearEndedTimer();
      const callId = now.call.id;
      this.endedTimer = {
        callId,
        handle: this.env.timers.setTimeout(() => {
          this.endedTimer = null;
          this.state.callsCleared(callId);
        }, ENDED_NOTICE_MS),
      };
    }

    if ((now.phase === 'connecting' || now.phase === 'connected') && now.call) {
      // A call the server bound to this device without us asking for media yet (glare after
      // a reconnect, say): ask now.
      if (!session) {
        const created = this.newSession(now.call.id, now.call.media, now.call.role);
        created.localMedia.request((stream) => {
          if (!stream && !created.closed && this.isCurrent(created)) {
            this.env.gateway.send({ type: 'call.hangup', call_id: created.callId, reason: 'hangup' });
            this.state.callsEndedLocally(created.callId, 'failed');
          }
          return stream;
        });
        session = created;
      }
      session.role = now.call.role;
      if (!now.rejoining) session.startPeer();
      // Our side is bound to this socket again after a reconnect: resend what was lost.
      if (before.rejoining && !now.rejoining) session.rejoined();
    }

    if (session && (now.muted !== before.muted || now.cameraOff !== before.cameraOff)) {
      session.localMedia.applyTrackState();
    }
  }

  private isCurrent(session: CallSession): boolean {
    return this.session === session && this.state.calls.call?.id === session.callId;
  }

  private newSession(callId: string, media: CallMedia, role: CallRole): CallSession {
    this.teardown();
    const session = new CallSession({ callId, media, role }, this.env, this.view);
    this.session = session;
    this.env.observer.session?.(session);
    return session;
  }

  // ---- what the gateway relays -----------------------------------------------------------------

  private onGatewayEvent(e: CallGatewayEvent): void {
    const session = this.session;
    if (e.type === 'error') {
      if (e.code === 'rate_limited') this.env.notify.error('Too many calls', 'Please wait a minute before calling again.');
      else if (e.code === 'not_found' || e.code === 'validation_failed') this.env.notify.error('Could not start the call', e.message);
      else console.warn(`calls: ${e.code} for call ${e.call_id}: ${e.message ?? ''}`);
      return;
    }
    if (!session || session.closed || e.call_id !== session.callId) return; // another call's leftovers
    const phase = this.state.calls.phase;
    if (phase !== 'connecting' && phase !== 'connected') return;
    switch (e.type) {
      case 'call.offer':
      case 'call.answer':
        session.remoteDescription({ type: e.type === 'call.offer' ? 'offer' : 'answer', sdp: e.sdp });
        return;
      case 'call.ice':
        session.remoteCandidate(e.candidate);
        return;
    }
  }

  // ---- the one way out ---------------------------------------------------------------------

  /** Ends the current session (see CallSession.close) and clears the media view. */
  private teardown(): void {
    const session = this.session;
    this.session = null;
    if (session) {
      session.close();
      this.env.observer.session?.(null);
    }
    this.view.reset();
  }

  private clearEndedTimer(): void {
    if (this.endedTimer) this.env.timers.clearTimeout(this.endedTimer.handle);
    this.endedTimer = null;
  }
}
