/**
 * The call controller: owns the one RTCPeerConnection of the tab and the local camera /
 * microphone stream, and drives them from the calls slice (the state machine) and the
 * signaling the gateway relays.
 *
 * - The caller asks for media as it invites; the callee only after the user accepts (and
 *   rejects the call if that fails). Video calls fall back to audio when there is no camera.
 * - When the call reaches `connecting`, the ICE servers (short-lived TURN credentials) are
 *   fetched, the peer connection is created, and the caller sends the offer; the callee
 *   answers. Candidates trickle both ways (`call.ice`); remote ones that arrive before the
 *   remote description are buffered.
 * - `call.connected` goes out once the connection is `connected`.
 * - ICE restart (an offer with `iceRestart`) when ICE stays disconnected/failed for 2 s, or
 *   the browser comes back online. Either side may restart: the callee is the polite peer
 *   when offers cross. A connection that stays `failed` for 10 s hangs up with `failed`.
 * - After a gateway reconnect the socket rejoins the call (client.ts); offers that could not
 *   be sent meanwhile are sent again.
 * - Ended or idle: one teardown path closes the peer connection and stops every local track.
 * - Test hooks: `window.__nexusIceTransportPolicy = 'relay'` (or `?ice=relay`) forces TURN;
 *   the live connection is `window.__nexusCall.pc` while it exists.
 */
import type { IceServersResponse } from '../../api/types';
import type { CallGatewayEvent } from '../../gateway/client';
import { realTimers, type Timers } from '../../gateway/connection';
import type { CallMedia, ClientEvent, IceCandidateJson } from '../../gateway/protocol';
import type { AppState, AppStore } from '../../stores';
import type { CallRole } from '../../stores/calls/reducer';
import { callsSelectors } from '../../stores/calls/selectors';
import { connectionSelectors } from '../../stores/connection/selectors';
import { assessQuality, type Quality, type QualitySample, type StatsEntry } from './quality';

/** How long "Call ended: …" stays before the screen goes away. */
export const ENDED_NOTICE_MS = 2_000;
/** ICE disconnected/failed for this long → ICE restart (and again every as long while it lasts). */
export const ICE_RESTART_AFTER_MS = 2_000;
/** A connection `failed` that no restart brings back within this → `call.hangup {reason: failed}`. */
export const FAILED_HANGUP_AFTER_MS = 10_000;
export const STATS_INTERVAL_MS = 2_000;

export const PERMISSION_DENIED = 'Camera/microphone permission was denied — allow it in the browser’s site settings';

export interface CallNotifier {
  error(message: string, description?: string): void;
  info(message: string, description?: string): void;
}

/** The part of the gateway the controller uses. */
export interface CallGateway {
  send(event: ClientEvent): boolean;
  onCallEvent(listener: (e: CallGatewayEvent) => void): () => void;
}

export interface CallControllerOptions {
  store: AppStore;
  gateway: CallGateway;
  iceServers(): Promise<IceServersResponse>;
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  notify: CallNotifier;
  newCallId(): string;
  /** 'relay' forces TURN (window.__nexusIceTransportPolicy or ?ice=relay). */
  iceTransportPolicy?(): RTCIceTransportPolicy | undefined;
  /** Publishes the live peer connection (window.__nexusCall), or null when there is none. */
  expose?(pc: RTCPeerConnection | null): void;
  /** Subscribes to the browser's `online` event. */
  onOnline?(listener: () => void): () => void;
  timers?: Timers;
  setInterval?(fn: () => void, ms: number): unknown;
  clearInterval?(handle: unknown): void;
}

/** What the call screen shows besides the state: the streams and the quality hint. */
export interface CallMediaView {
  local: MediaStream | null;
  remote: MediaStream | null;
  quality: Quality | null;
  rttMs: number | null;
  lossPct: number | null;
}

const NO_MEDIA: CallMediaView = { local: null, remote: null, quality: null, rttMs: null, lossPct: null };

/** Everything that belongs to one call on this device; thrown away whole by teardown(). */
interface Session {
  callId: string;
  media: CallMedia;
  role: CallRole;
  /** Resolves to the local stream, or null if media could not be had (the call is ended then). */
  localReady: Promise<MediaStream | null>;
  local: MediaStream | null;
  remote: MediaStream | null;
  pc: RTCPeerConnection | null;
  starting: boolean;
  closed: boolean;
  /** Signaling operations run one at a time, in order. */
  queue: Promise<void>;
  /** Remote candidates waiting for the remote description. */
  pendingCandidates: (IceCandidateJson | null)[];
  makingOffer: boolean;
  ignoreOffer: boolean;
  /** An offer that could not be sent (socket down): sent again when possible. */
  offerWanted: { restart: boolean } | null;
  sentConnected: boolean;
  everConnected: boolean;
  iceTimer: unknown;
  failTimer: unknown;
  /** Fetches fresh TURN credentials before the current ones expire. */
  credentialsTimer: unknown;
  statsTimer: unknown;
  statsSample: QualitySample | null;
}

export class CallController {
  private readonly o: CallControllerOptions;
  private readonly timers: Timers;
  private session: Session | null = null;
  private endedTimer: { callId: string; handle: unknown } | null = null;
  private view: CallMediaView = NO_MEDIA;
  private readonly listeners = new Set<() => void>();
  private unsubscribers: (() => void)[] = [];

  constructor(options: CallControllerOptions) {
    this.o = options;
    this.timers = options.timers ?? realTimers;
  }

  private get state(): AppState {
    return this.o.store.getState();
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  start(): void {
    if (this.unsubscribers.length) return;
    this.unsubscribers = [
      this.o.store.subscribe((s, prev) => this.reconcile(s, prev)),
      this.o.gateway.onCallEvent((e) => this.onGatewayEvent(e)),
      this.o.onOnline?.(() => this.networkChanged()) ?? (() => undefined),
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
      this.o.gateway.send({ type: 'call.hangup', call_id: s.call.id, reason: 'hangup' });
    }
    this.teardown();
  }

  // ---- what the UI calls ---------------------------------------------------------------------

  /** Starts a call in a direct conversation. Returns false if one cannot be started now. */
  startCall(conversationId: string, peerId: string, media: CallMedia): boolean {
    if (!callsSelectors.canStart(this.state) || !connectionSelectors.isOpen(this.state)) return false;
    this.clearEndedTimer();
    const callId = this.o.newCallId();
    this.state.callsInvited(callId, conversationId, media, peerId);
    if (!this.o.gateway.send({ type: 'call.invite', call_id: callId, conversation_id: conversationId, media })) {
      this.state.callsEndedLocally(callId, 'failed');
      this.o.notify.error('Could not start the call', 'You are not connected to the server.');
      return false;
    }
    // Ask for the camera/microphone while it rings.
    const session = this.newSession(callId, media, 'caller');
    session.localReady = this.acquireMedia(session).then((stream) => {
      if (!stream && !session.closed && this.isCurrent(session)) {
        this.o.gateway.send({ type: 'call.hangup', call_id: callId, reason: 'hangup' });
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
    session.localReady = this.acquireMedia(session).then((stream) => {
      if (session.closed || !this.isCurrent(session)) return stream;
      if (!stream) {
        this.o.gateway.send({ type: 'call.reject', call_id: callId });
        this.state.callsDeclined(callId);
        return null;
      }
      if (!this.o.gateway.send({ type: 'call.accept', call_id: callId })) {
        this.o.notify.error('Could not answer the call', 'You are not connected to the server.');
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
    this.o.gateway.send({ type: 'call.reject', call_id: s.call.id });
    this.state.callsDeclined(s.call.id);
  }

  /** Hangs up (or cancels an outgoing call that has not been answered). */
  hangUp(): void {
    const s = this.state.calls;
    if (!s.call) return;
    if (s.phase === 'receiving') {
      if (s.accepting) {
        this.o.gateway.send({ type: 'call.reject', call_id: s.call.id });
        this.state.callsDeclined(s.call.id);
      } else this.decline();
      return;
    }
    if (s.phase !== 'calling' && s.phase !== 'connecting' && s.phase !== 'connected') return;
    this.o.gateway.send({ type: 'call.hangup', call_id: s.call.id, reason: 'hangup' });
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

  // ---- the media view (streams and quality) for the UI ------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getMedia = (): CallMediaView => this.view;

  private publish(patch: Partial<CallMediaView>): void {
    this.view = { ...this.view, ...patch };
    for (const l of this.listeners) l();
  }

  // ---- following the state machine -------------------------------------------------------------

  private reconcile(s: AppState, prev: AppState): void {
    const now = s.calls;
    const before = prev.calls;
    if (now === before) return;

    if (now.notice && now.notice !== before.notice) this.o.notify.info('Answered on another device');

    let session = this.session;
    // Glare: our invite was merged into the peer's call; the same camera goes on with it.
    if (session && now.call && now.call.id !== session.callId && before.phase === 'calling' && now.phase === 'connecting' && now.call.conversationId === before.call?.conversationId) {
      session.callId = now.call.id;
      session.role = now.call.role;
      session.media = now.call.media;
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
        handle: this.timers.setTimeout(() => {
          this.endedTimer = null;
          this.state.callsCleared(callId);
        }, ENDED_NOTICE_MS),
      };
    }

    if ((now.phase === 'connecting' || now.phase === 'connected') && now.call) {
      // A call the server bound to this device without us asking for media yet (glare after
      // a reconnect, say): ask now.
      if (!session) {
        session = this.newSession(now.call.id, now.call.media, now.call.role);
        const created = session;
        session.localReady = this.acquireMedia(session).then((stream) => {
          if (!stream && !created.closed && this.isCurrent(created)) {
            this.o.gateway.send({ type: 'call.hangup', call_id: created.callId, reason: 'hangup' });
            this.state.callsEndedLocally(created.callId, 'failed');
          }
          return stream;
        });
      }
      session.role = now.call.role;
      if (!session.pc && !session.starting && !now.rejoining) this.startPeer(session);
      // Our side is bound to this socket again after a reconnect: resend what was lost.
      if (before.rejoining && !now.rejoining && session.pc) this.afterRejoin(session);
    }

    if (session?.local && (now.muted !== before.muted || now.cameraOff !== before.cameraOff)) {
      this.applyTrackState(session.local);
    }
  }

  private applyTrackState(stream: MediaStream): void {
    const s = this.state.calls;
    for (const t of stream.getAudioTracks()) t.enabled = !s.muted;
    for (const t of stream.getVideoTracks()) t.enabled = !s.cameraOff;
  }

  private isCurrent(session: Session): boolean {
    return this.session === session && this.state.calls.call?.id === session.callId;
  }

  private newSession(callId: string, media: CallMedia, role: CallRole): Session {
    this.teardown();
    const session: Session = {
      callId,
      media,
      role,
      localReady: Promise.resolve(null),
      local: null,
      remote: null,
      pc: null,
      starting: false,
      closed: false,
      queue: Promise.resolve(),
      pendingCandidates: [],
      makingOffer: false,
      ignoreOffer: false,
      offerWanted: null,
      sentConnected: false,
      everConnected: false,
      iceTimer: null,
      credentialsTimer: null,
      failTimer: null,
      statsTimer: null,
      statsSample: null,
    };
    this.session = session;
    return session;
  }

  // ---- local media --------------------------------------------------------------------------

  /** getUserMedia with the fallbacks and the words for each failure. Null: no media, the call cannot go on. */
  private async acquireMedia(session: Session): Promise<MediaStream | null> {
    const video = session.media === 'video';
    let stream: MediaStream | null = null;
    try {
      stream = await this.o.getUserMedia(video ? { audio: true, video: true } : { audio: true });
    } catch (err) {
      const name = errorName(err);
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        this.o.notify.error(PERMISSION_DENIED);
      } else if (video && (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError')) {
        this.o.notify.info(name === 'NotReadableError' ? 'The camera is in use by another app' : 'No camera found', 'The call goes on with audio only.');
        try {
          stream = await this.o.getUserMedia({ audio: true });
          if (!session.closed) this.state.callsAudioOnly(session.callId);
        } catch (again) {
          const n = errorName(again);
          this.o.notify.error(n === 'NotAllowedError' ? PERMISSION_DENIED : n === 'NotFoundError' ? 'No microphone found' : 'Could not start the microphone');
        }
      } else if (name === 'NotFoundError' || name === 'OverconstrainedError') {
        this.o.notify.error('No microphone found');
      } else if (name === 'Unsupported') {
        this.o.notify.error('Calls need a secure connection', 'Open Nexus over HTTPS to use the camera and microphone.');
      } else {
        this.o.notify.error('Could not start the camera or microphone', err instanceof Error ? err.message : undefined);
      }
    }
    if (!stream) return null;
    if (session.closed) {
      // The call ended while the browser was asking: this stream never goes live.
      stopTracks(stream);
      return null;
    }
    session.local = stream;
    this.applyTrackState(stream);
    this.publish({ local: stream });
    return stream;
  }

  // ---- the peer connection -------------------------------------------------------------------

  private startPeer(session: Session): void {
    session.starting = true;
    this.enqueue(session, async () => {
      const local = await session.localReady;
      if (!local || session.closed) return;
      let iceServers: RTCIceServer[] = [];
      try {
        const answer = await this.o.iceServers();
        iceServers = answer.ice_servers;
        this.refreshCredentialsLater(session, answer.ttl);
      } catch {
        // Without STUN/TURN the call can still connect on a shared network.
        console.warn('calls: could not fetch the ICE servers');
      }
      if (session.closed) return;
      const config: RTCConfiguration = { iceServers };
      const policy = this.o.iceTransportPolicy?.();
      if (policy) config.iceTransportPolicy = policy;
      const pc = this.o.createPeerConnection(config);
      session.pc = pc;
      this.o.expose?.(pc);
      this.wire(session, pc);
      for (const track of local.getTracks()) pc.addTrack(track, local);
      // A video call from a device without a camera still receives the other side's video.
      if (session.media === 'video' && local.getVideoTracks().length === 0) pc.addTransceiver('video', { direction: 'recvonly' });
      this.startStats(session);
      if (session.role === 'caller') await this.makeOffer(session, false);
    });
  }

  private wire(session: Session, pc: RTCPeerConnection): void {
    pc.onicecandidate = (e) => {
      if (session.closed) return;
      const candidate = e.candidate ? (e.candidate.toJSON() as IceCandidateJson) : null;
      this.o.gateway.send({ type: 'call.ice', call_id: session.callId, candidate });
    };
    pc.ontrack = (e) => {
      if (session.closed) return;
      let remote = e.streams[0] ?? session.remote;
      if (!remote && typeof MediaStream !== 'undefined') remote = new MediaStream();
      if (remote && !remote.getTracks().includes(e.track)) remote.addTrack(e.track);
      session.remote = remote ?? null;
      // A new object each time, so the view re-renders and the <video> picks up new tracks.
      this.publish({ remote: session.remote });
    };
    pc.onconnectionstatechange = () => this.connectionStateChanged(session);
    pc.oniceconnectionstatechange = () => this.iceStateChanged(session);
  }

  private connectionStateChanged(session: Session): void {
    const pc = session.pc;
    if (!pc || session.closed) return;
    switch (pc.connectionState) {
      case 'connected':
        this.clearTimer(session, 'failTimer');
        session.everConnected = true;
        if (!session.sentConnected) {
          session.sentConnected = this.o.gateway.send({ type: 'call.connected', call_id: session.callId });
        }
        this.state.callsMediaConnected(session.callId);
        return;
      case 'disconnected':
        if (session.everConnected) this.state.callsMediaInterrupted(session.callId, true);
        return;
      case 'failed':
        if (session.everConnected) this.state.callsMediaInterrupted(session.callId, true);
        this.restartIce(session);
        if (session.failTimer === null) {
          session.failTimer = this.timers.setTimeout(() => {
            session.failTimer = null;
            if (session.closed || session.pc?.connectionState === 'connected') return;
            this.o.gateway.send({ type: 'call.hangup', call_id: session.callId, reason: 'failed' });
            this.state.callsEndedLocally(session.callId, 'failed');
          }, FAILED_HANGUP_AFTER_MS);
        }
        return;
      default:
        return;
    }
  }

  private iceStateChanged(session: Session): void {
    const pc = session.pc;
    if (!pc || session.closed) return;
    const state = pc.iceConnectionState;
    if (state === 'disconnected' || state === 'failed') {
      if (session.iceTimer === null) this.watchIce(session);
    } else if (state === 'connected' || state === 'completed') {
      this.clearTimer(session, 'iceTimer');
    }
  }

  /** While ICE stays down, restart it every ICE_RESTART_AFTER_MS. */
  private watchIce(session: Session): void {
    session.iceTimer = this.timers.setTimeout(() => {
      session.iceTimer = null;
      const state = session.pc?.iceConnectionState;
      if (session.closed || (state !== 'disconnected' && state !== 'failed')) return;
      this.restartIce(session);
      this.watchIce(session);
    }, ICE_RESTART_AFTER_MS);
  }

  /** The network changed (online again, maybe on another interface): new candidates at once. */
  /**
   * TURN credentials only make new allocations while they are valid: an ICE restart late in
   * a call needs fresh ones. Fetch them at 80 % of their lifetime and hand them to the
   * connection (existing allocations live on; the server refreshes them).
   */
  private refreshCredentialsLater(session: Session, ttlSecs: number): void {
    if (!(ttlSecs > 0)) return;
    this.clearTimer(session, 'credentialsTimer');
    session.credentialsTimer = this.timers.setTimeout(() => {
      session.credentialsTimer = null;
      if (session.closed) return;
      this.o.iceServers().then(
        (answer) => {
          const pc = session.pc;
          if (session.closed || !pc) return;
          try {
            pc.setConfiguration({ ...pc.getConfiguration(), iceServers: answer.ice_servers });
          } catch {
            // A configuration the browser refuses keeps the old one.
          }
          this.refreshCredentialsLater(session, answer.ttl);
        },
        () => this.refreshCredentialsLater(session, 60),
      );
    }, Math.max(10, ttlSecs * 0.8) * 1000);
  }

  private networkChanged(): void {
    const session = this.session;
    if (session?.pc && !session.closed) this.restartIce(session);
  }

  restartIce(session: Session | null = this.session): void {
    if (!session?.pc || session.closed) return;
    this.enqueue(session, () => this.makeOffer(session, true));
  }

  private afterRejoin(session: Session): void {
    const pc = session.pc;
    if (!pc) return;
    const want = session.offerWanted;
    const ice = pc.iceConnectionState;
    if (!want && (ice === 'connected' || ice === 'completed')) return; // the media never stopped
    this.enqueue(session, async () => {
      // An answer to an offer sent on the old socket may never come: start over.
      if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      session.offerWanted = null;
      // Before the first answer a plain offer will do; afterwards the path needs new candidates.
      await this.makeOffer(session, session.everConnected || pc.remoteDescription !== null || want?.restart === true);
    });
  }

  /** Creates and sends an offer (an ICE restart when `restart`). Must run in the queue. */
  private async makeOffer(session: Session, restart: boolean): Promise<void> {
    const pc = session.pc;
    if (!pc || session.closed) return;
    if (pc.signalingState !== 'stable') {
      // An exchange is under way; its answer brings the new description, or we try again.
      session.offerWanted = { restart };
      return;
    }
    session.makingOffer = true;
    try {
      const offer = await pc.createOffer(restart ? { iceRestart: true } : undefined);
      if (session.closed) return;
      await pc.setLocalDescription(offer);
      if (session.closed) return;
      const sdp = pc.localDescription?.sdp ?? offer.sdp ?? '';
      if (this.o.gateway.send({ type: 'call.offer', call_id: session.callId, sdp })) {
        session.offerWanted = null;
      } else {
        // Not connected: take the offer back and send a fresh one after the rejoin.
        session.offerWanted = { restart };
        await pc.setLocalDescription({ type: 'rollback' });
      }
    } finally {
      session.makingOffer = false;
    }
  }

  private async applyDescription(session: Session, description: RTCSessionDescriptionInit): Promise<void> {
    const pc = session.pc;
    if (!pc || session.closed) return;
    const collision = description.type === 'offer' && (session.makingOffer || pc.signalingState !== 'stable');
    // Perfect negotiation: the caller is impolite and keeps its own offer; the callee yields.
    session.ignoreOffer = session.role === 'caller' && collision;
    if (session.ignoreOffer) return;
    if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return; // a stale answer
    if (collision) await pc.setLocalDescription({ type: 'rollback' });
    await pc.setRemoteDescription(description);
    if (session.closed) return;
    await this.flushCandidates(session);
    if (description.type === 'offer') {
      const answer = await pc.createAnswer();
      if (session.closed) return;
      await pc.setLocalDescription(answer);
      if (session.closed) return;
      this.o.gateway.send({ type: 'call.answer', call_id: session.callId, sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
    }
    // An offer of ours that had to wait for this exchange.
    if (session.offerWanted && pc.signalingState === 'stable') {
      const { restart } = session.offerWanted;
      session.offerWanted = null;
      await this.makeOffer(session, restart);
    }
  }

  private async addCandidate(session: Session, candidate: IceCandidateJson | null): Promise<void> {
    const pc = session.pc;
    if (!pc || !pc.remoteDescription) {
      session.pendingCandidates.push(candidate);
      return;
    }
    try {
      await pc.addIceCandidate(candidate ?? undefined);
    } catch (err) {
      // Candidates of an offer we ignored (glare) fail harmlessly.
      if (!session.ignoreOffer) console.warn('calls: could not add an ICE candidate', err);
    }
  }

  private async flushCandidates(session: Session): Promise<void> {
    const pending = session.pendingCandidates;
    session.pendingCandidates = [];
    for (const c of pending) await this.addCandidate(session, c);
  }

  private enqueue(session: Session, op: () => Promise<void>): void {
    session.queue = session.queue
      .then(() => (session.closed ? undefined : op()))
      .catch((err: unknown) => {
        if (!session.closed) console.warn('calls: signaling step failed', err);
      });
  }

  // ---- what the gateway relays -----------------------------------------------------------------

  private onGatewayEvent(e: CallGatewayEvent): void {
    const session = this.session;
    if (e.type === 'error') {
      if (e.code === 'rate_limited') this.o.notify.error('Too many calls', 'Please wait a minute before calling again.');
      else if (e.code === 'not_found' || e.code === 'validation_failed') this.o.notify.error('Could not start the call', e.message);
      else console.warn(`calls: ${e.code} for call ${e.call_id}: ${e.message ?? ''}`);
      return;
    }
    if (!session || session.closed || e.call_id !== session.callId) return; // another call's leftovers
    const phase = this.state.calls.phase;
    if (phase !== 'connecting' && phase !== 'connected') return;
    switch (e.type) {
      case 'call.offer':
      case 'call.answer': {
        const description: RTCSessionDescriptionInit = { type: e.type === 'call.offer' ? 'offer' : 'answer', sdp: e.sdp };
        this.enqueue(session, () => this.applyDescription(session, description));
        return;
      }
      case 'call.ice':
        void this.addCandidate(session, e.candidate);
        return;
    }
  }

  // ---- quality -------------------------------------------------------------------------------

  private startStats(session: Session): void {
    const every = this.o.setInterval ?? ((fn: () => void, ms: number) => globalThis.setInterval(fn, ms));
    session.statsTimer = every(() => void this.sampleStats(session), STATS_INTERVAL_MS);
  }

  private async sampleStats(session: Session): Promise<void> {
    const pc = session.pc;
    if (!pc || session.closed) return;
    try {
      const report = await pc.getStats();
      if (session.closed) return;
      const entries: StatsEntry[] = [];
      report.forEach((v: StatsEntry) => entries.push(v));
      const reading = assessQuality(entries, session.statsSample);
      session.statsSample = reading.sample;
      const v = this.view;
      if (v.quality !== reading.quality || v.rttMs !== reading.rttMs || v.lossPct !== reading.lossPct) {
        this.publish({ quality: reading.quality, rttMs: reading.rttMs, lossPct: reading.lossPct });
      }
    } catch {
      // A closing connection; the next sample (if any) tries again.
    }
  }

  // ---- the one way out ---------------------------------------------------------------------

  /** Closes the peer connection, stops every local track and forgets the call's media. */
  teardown(): void {
    const session = this.session;
    this.session = null;
    if (session) {
      session.closed = true;
      this.clearTimer(session, 'iceTimer');
      this.clearTimer(session, 'failTimer');
      this.clearTimer(session, 'credentialsTimer');
      if (session.statsTimer !== null) {
        (this.o.clearInterval ?? ((h: unknown) => globalThis.clearInterval(h as ReturnType<typeof setInterval>)))(session.statsTimer);
        session.statsTimer = null;
      }
      const pc = session.pc;
      session.pc = null;
      if (pc) {
        pc.onicecandidate = null;
        pc.ontrack = null;
        pc.onconnectionstatechange = null;
        pc.oniceconnectionstatechange = null;
        try {
          pc.close();
        } catch {
          // already closed
        }
      }
      if (session.local) stopTracks(session.local);
      session.local = null;
      session.remote = null;
      session.pendingCandidates = [];
      this.o.expose?.(null);
    }
    if (this.view !== NO_MEDIA) {
      this.view = NO_MEDIA;
      for (const l of this.listeners) l();
    }
  }

  private clearTimer(session: Session, name: 'iceTimer' | 'failTimer' | 'credentialsTimer'): void {
    if (session[name] !== null) this.timers.clearTimeout(session[name]);
    session[name] = null;
  }

  private clearEndedTimer(): void {
    if (this.endedTimer) this.timers.clearTimeout(this.endedTimer.handle);
    this.endedTimer = null;
  }

  /** For tests: the live peer connection and local stream. */
  get current(): { pc: RTCPeerConnection | null; local: MediaStream | null; pendingCandidates: number } | null {
    const s = this.session;
    return s ? { pc: s.pc, local: s.local, pendingCandidates: s.pendingCandidates.length } : null;
  }

  /** Resolves when the signaling queue of the current call is idle (tests). */
  async settled(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const s = this.session;
      if (!s) return;
      await s.queue;
      await s.localReady;
      await Promise.resolve();
    }
  }
}

function stopTracks(stream: MediaStream): void {
  for (const t of stream.getTracks()) t.stop();
}

function errorName(err: unknown): string {
  if (err && typeof err === 'object' && 'name' in err && typeof err.name === 'string') return err.name;
  return '';
}
