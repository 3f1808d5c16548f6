/**
 * One call on this device, from the first ask for media to the teardown. It names the call
 * (id, media, our role: glare may rebind them) and owns the parts that each keep their own
 * state: the local media, the peer connection, the signaling, the connection watch, the
 * ICE credentials and the quality sampler. `close` is the one way out: every timer
 * stopped, the connection closed, every local track stopped. A closed session is never
 * used again; the controller makes a new one for the next call.
 */
import type { CallMedia, IceCandidateJson } from '../../gateway/protocol';
import type { CallRole, CurrentCall } from '../../stores/calls/reducer';
import { ConnectionWatch } from './connectionWatch';
import { CredentialRefresh } from './credentials';
import type { CallEnv, CallScope, SessionProbe } from './deps';
import { LocalMedia } from './localMedia';
import type { MediaViewStore } from './mediaView';
import { PeerLink, rtcConfig } from './peer';
import { QualitySampler } from './qualitySampler';
import { Signaling } from './signaling';

export class CallSession implements CallScope, SessionProbe {
  callId: string;
  media: CallMedia;
  role: CallRole;
  closed = false;
  private peerStarted = false;

  readonly localMedia: LocalMedia;
  private readonly peer = new PeerLink();
  private readonly signaling: Signaling;
  private readonly watch: ConnectionWatch;
  private readonly credentials: CredentialRefresh;
  private readonly quality: QualitySampler;

  constructor(
    call: { callId: string; media: CallMedia; role: CallRole },
    private readonly env: CallEnv,
    private readonly view: MediaViewStore,
  ) {
    this.callId = call.callId;
    this.media = call.media;
    this.role = call.role;
    this.localMedia = new LocalMedia(this, env, view);
    this.signaling = new Signaling(this, (e) => env.gateway.send(e));
    this.watch = new ConnectionWatch(this, env, () => this.signaling.restartIce());
    this.credentials = new CredentialRefresh(this, env);
    this.quality = new QualitySampler(this, env, view);
  }

  get pc(): RTCPeerConnection | null {
    return this.peer.pc;
  }

  get local(): MediaStream | null {
    return this.localMedia.stream;
  }

  get pendingCandidates(): number {
    return this.signaling.pendingCandidates;
  }

  /** Glare: our invite was merged into the peer's call; the same camera goes on with it. */
  rebind(call: CurrentCall): void {
    this.callId = call.id;
    this.role = call.role;
    this.media = call.media;
  }

  /**
   * Once the call is connecting (and the media is there): fetches the ICE servers, creates
   * the peer connection, and as the caller sends the offer. Only the first call does anything.
   */
  startPeer(): void {
    if (this.peerStarted) return;
    this.peerStarted = true;
    this.signaling.enqueue(async () => {
      const local = await this.localMedia.ready;
      if (!local || this.closed) return;
      const iceServers = await this.credentials.initial();
      if (this.closed) return;
      const pc = this.env.createPeerConnection(rtcConfig(iceServers, this.env.iceTransportPolicy()));
      this.peer.attach(pc, () => this.closed, {
        candidate: (candidate) => this.env.gateway.send({ type: 'call.ice', call_id: this.callId, candidate }),
        // The view is a new object each time, so the <video> picks up new tracks.
        remote: (remote) => this.view.publish({ remote }),
        connectionState: () => this.watch.connectionStateChanged(),
        iceState: () => this.watch.iceStateChanged(),
      });
      this.env.observer.peerConnection?.(pc);
      this.peer.addLocal(local, this.media);
      this.quality.start();
      if (this.role === 'caller') await this.signaling.makeOffer(false);
    });
  }

  /** A description or candidate the other side relayed. */
  remoteDescription(description: RTCSessionDescriptionInit): void {
    this.signaling.remoteDescription(description);
  }

  remoteCandidate(candidate: IceCandidateJson | null): void {
    this.signaling.remoteCandidate(candidate);
  }

  /** The network changed (online again, maybe on another interface): new candidates at once. */
  networkChanged(): void {
    if (this.pc && !this.closed) this.signaling.restartIce();
  }

  /** Bound to this socket again after a reconnect: resend what was lost. */
  rejoined(): void {
    if (this.pc) this.signaling.rejoined(() => this.watch.everConnected);
  }

  /** The one way out: stops every timer, closes the connection, stops every local track. */
  close(): void {
    this.closed = true;
    this.watch.stop();
    this.credentials.stop();
    this.quality.stop();
    this.peer.close();
    this.localMedia.stop();
    this.signaling.clear();
    this.env.observer.peerConnection?.(null);
  }
}
