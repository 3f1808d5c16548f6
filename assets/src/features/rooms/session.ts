/**
 * This device's place in one room, from the Join to the teardown: the local media, the one
 * peer connection to the server's SFU (made anew when the room is joined again after
 * `node_lost`), our send transceivers, the recvonly slots the server asked for and which
 * remote track each carries, the negotiations and the `room.view` reports. `close` is the
 * one way out: every timer stopped, the connection closed, every local track stopped.
 */
import type { RoomSlot } from '../../gateway/protocol';
import type { AppState } from '../../stores';
import { CredentialRefresh } from '../calls/credentials';
import { rtcConfig } from '../calls/peer';
import type { RoomEnv, RoomScope } from './deps';
import { RoomLocalMedia } from './localMedia';
import type { RoomMediaStore } from './mediaView';
import { Negotiator } from './negotiation';
import { Senders } from './senders';
import { RemoteStreams, slotCounts, type SlotTransceiver } from './slots';
import { ViewReporter } from './viewReport';

export class RoomCall implements RoomScope {
  closed = false;
  pc: RTCPeerConnection | null = null;
  readonly local: RoomLocalMedia;
  readonly negotiator: Negotiator;
  readonly senders = new Senders();
  private readonly remote: RemoteStreams;
  private readonly view: ViewReporter;
  private readonly credentials: CredentialRefresh;
  private mediaReady: Promise<void> = Promise.resolve();
  private wantSlots = { audio: 0, video: 0 };
  private maxKbps: number | null = null;
  /** Bumped for each new peer connection: a slower start of an older one gives up. */
  private generation = 0;
  private iceRestarted = false;

  constructor(
    readonly conversationId: string,
    private readonly env: RoomEnv,
    private readonly mediaView: RoomMediaStore,
  ) {
    this.local = new RoomLocalMedia(this, env);
    this.remote = new RemoteStreams(env.createMediaStream);
    this.credentials = new CredentialRefresh(this, env);
    this.view = new ViewReporter(conversationId, () => this.remote.list(), (e) => env.gateway.send(e), env.timers);
    this.negotiator = new Negotiator(
      this,
      {
        prepare: (pc) => this.addSlots(pc),
        tracks: () => this.senders.tracks(),
        answered: (slots) => this.applySlots(slots),
        send: (e) => env.gateway.send(e),
      },
      env.timers,
    );
  }

  private get state(): AppState {
    return this.env.store.getState();
  }

  /** Asks for the microphone (and camera). A video join without a camera goes on with audio. */
  requestMedia(video: boolean): void {
    this.mediaReady = this.local.acquire(video).then(({ camera }) => {
      if (this.closed) return;
      if (video && !camera) this.state.roomsNoCamera(this.conversationId);
      this.applyTrackState();
      this.publishLocal();
    });
  }

  /**
   * After `room.joined`: the ICE servers, a new peer connection with our send tracks, and
   * the first offer. A previous connection (a join again) is closed first.
   */
  async startPeer(maxKbps: number | null): Promise<void> {
    this.closePeer();
    const generation = ++this.generation;
    this.maxKbps = maxKbps;
    await this.mediaReady;
    if (this.closed || generation !== this.generation) return;
    const iceServers = await this.credentials.initial();
    if (this.closed || generation !== this.generation) return;
    const pc = this.env.createPeerConnection(rtcConfig(iceServers, this.env.iceTransportPolicy()));
    this.pc = pc;
    pc.ontrack = () => {
      if (this.pc === pc) this.refreshRemote();
    };
    pc.onconnectionstatechange = () => {
      if (this.pc === pc) this.connectionChanged(pc);
    };
    const { microphone, camera, screen, stream } = this.local;
    if (microphone) this.senders.add(pc, 'microphone', microphone, stream, maxKbps);
    if (camera) this.senders.add(pc, 'camera', camera, stream, maxKbps);
    if (screen) this.senders.add(pc, 'screen', screen, stream, maxKbps);
    this.env.observer.peerConnection?.(pc, this.conversationId);
    this.negotiator.request();
    // What the server should know from the start.
    const s = this.state.rooms.session;
    if (s?.muted) this.env.gateway.send({ type: 'room.mute', conversation_id: this.conversationId, source: 'microphone', muted: true });
    if (s?.cameraOff && camera) this.env.gateway.send({ type: 'room.mute', conversation_id: this.conversationId, source: 'camera', muted: true });
  }

  /** `room.renegotiate`: the totals of recvonly slots the server wants. */
  renegotiate(audio: number, video: number): void {
    this.wantSlots = { audio: Math.max(this.wantSlots.audio, audio), video: Math.max(this.wantSlots.video, video) };
    this.negotiator.request();
  }

  answer(sdp: string, slots: RoomSlot[]): void {
    this.negotiator.answer(sdp, slots);
  }

  /** `room.slots` (or the answer's): which remote track each slot carries now. */
  applySlots(slots: RoomSlot[]): void {
    if (this.remote.update(this.transceivers(), slots)) this.publishRemote();
  }

  /** A tile's size on screen, for `room.view`. */
  setTileSize(userId: string, source: 'camera' | 'screen', size: { width: number; height: number } | null): void {
    this.view.setSize(userId, source, size);
  }

  /** Mute and camera off, as the rooms slice has them, on our tracks. */
  applyTrackState(): void {
    const s = this.state.rooms.session;
    if (s) this.local.apply(s.muted, s.cameraOff);
  }

  /** Turns the camera on in an audio join (or after it was lost): a new sendonly transceiver. */
  async addCamera(): Promise<boolean> {
    const track = await this.local.startCamera();
    if (!track || this.closed) return false;
    this.applyTrackState();
    this.publishLocal();
    const pc = this.pc;
    if (pc && !this.senders.get('camera')) {
      this.senders.add(pc, 'camera', track, this.local.stream, this.maxKbps);
      this.negotiator.request();
    } else await this.senders.replace('camera', track);
    return true;
  }

  /** Another microphone or camera, mid-call: `replaceTrack`, no renegotiation. */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<boolean> {
    const source = kind === 'audioinput' ? 'microphone' : 'camera';
    const track = await this.local.switchDevice(kind, deviceId);
    if (!track || this.closed) return false;
    const sent = await this.senders.replace(source, track);
    this.local.setTrack(source, track);
    this.applyTrackState();
    const pc = this.pc;
    if (!sent && pc) {
      // Nothing was sent of this kind yet (no microphone at the start): add it.
      this.senders.add(pc, source, track, this.local.stream, this.maxKbps);
      this.negotiator.request();
    }
    this.publishLocal();
    return true;
  }

  /** Shares the screen: a sendonly transceiver and a new offer. Resolves to whether it started. */
  async startScreen(onEnded: () => void): Promise<boolean> {
    if (this.local.screen) return true;
    const track = await this.local.startScreen();
    if (!track || this.closed) return false;
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener?.('ended', onEnded, { once: true });
    const pc = this.pc;
    if (pc) {
      this.senders.add(pc, 'screen', track, this.local.stream, this.maxKbps);
      this.negotiator.request();
    }
    this.mediaView.publish({ screen: this.env.createMediaStream([track]) });
    return true;
  }

  /** Stops the screen share: its transceiver is stopped and left out of the next offer. */
  stopScreen(): void {
    if (!this.local.screen) return;
    this.local.stopScreen();
    if (this.senders.remove('screen')) this.negotiator.request();
    this.mediaView.publish({ screen: null });
  }

  /** For a join again: the connection goes, the local media stays. */
  closePeer(): void {
    this.generation++;
    this.negotiator.reset();
    this.senders.reset();
    this.remote.clear();
    this.wantSlots = { audio: 0, video: 0 };
    this.iceRestarted = false;
    this.view.forgetSent();
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      try {
        pc.close();
      } catch {
        // already closed
      }
      this.env.observer.peerConnection?.(null, null);
    }
    if (this.local.screen) {
      // A new connection starts without the screen share.
      this.local.stopScreen();
      this.mediaView.publish({ screen: null });
    }
    this.publishRemote();
  }

  /** The one way out. */
  close(): void {
    if (this.closed) return;
    this.closePeer();
    this.closed = true;
    this.credentials.stop();
    this.view.stop();
    this.local.stop();
  }

  // ---- inside ----------------------------------------------------------------------------

  private transceivers(): SlotTransceiver[] {
    return this.pc ? (this.pc.getTransceivers() as SlotTransceiver[]) : [];
  }

  /** Adds recvonly transceivers until there are as many of each kind as the server wants. */
  private addSlots(pc: RTCPeerConnection): void {
    const have = slotCounts(pc.getTransceivers() as unknown as Parameters<typeof slotCounts>[0]);
    for (let i = have.audio; i < this.wantSlots.audio; i++) pc.addTransceiver('audio', { direction: 'recvonly' });
    for (let i = have.video; i < this.wantSlots.video; i++) pc.addTransceiver('video', { direction: 'recvonly' });
  }

  private refreshRemote(): void {
    if (this.remote.update(this.transceivers())) this.publishRemote();
  }

  private publishRemote(): void {
    this.mediaView.publish({ remote: this.remote.list() });
    this.view.schedule();
  }

  private publishLocal(): void {
    const { camera, microphone } = this.local;
    this.mediaView.publish({
      local: camera ? this.env.createMediaStream([camera]) : null,
      devices: { audioinput: deviceIdOf(microphone), videoinput: deviceIdOf(camera) },
    });
  }

  private connectionChanged(pc: RTCPeerConnection): void {
    const s = this.state;
    switch (pc.connectionState) {
      case 'connected':
        this.iceRestarted = false;
        s.roomsMediaConnected(this.conversationId);
        return;
      case 'disconnected':
        s.roomsMediaInterrupted(this.conversationId, true);
        return;
      case 'failed':
        s.roomsMediaInterrupted(this.conversationId, true);
        // One ICE restart per failure; if that does not help, the server ends it (`failed`).
        if (!this.iceRestarted) {
          this.iceRestarted = true;
          this.negotiator.request({ iceRestart: true });
        }
        return;
      default:
        return;
    }
  }
}

function deviceIdOf(track: MediaStreamTrack | null): string | null {
  if (!track || typeof track.getSettings !== 'function') return null;
  return track.getSettings().deviceId ?? null;
}
