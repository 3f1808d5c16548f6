/**
 * The room controller: this device's place in a group call, driven by what the user does
 * and by the room.* events the gateway hands it. What the UI calls lives here; the media,
 * the connection and the negotiations of one room live in its RoomCall (session.ts).
 *
 * - Join: `room.join` goes out at once and the microphone (and camera) are asked for
 *   meanwhile; `room.joined` starts the peer connection and the first offer.
 * - `room.renegotiate` adds recvonly slots and offers again (one offer at a time:
 *   negotiation.ts); `room.answer` / `room.slots` say whose track each slot carries.
 * - Mute and camera off: `track.enabled` and `room.mute`. Another device: `replaceTrack`.
 *   The screen share: a sendonly transceiver and an offer; stopping it takes it out again.
 * - `room.left` with `node_lost` or `disconnected`: join again, once, keeping the media;
 *   any other reason (or a second time) ends the session with a notice.
 * - A new gateway socket (a reconnect): `room.join` again from it (the server keeps our
 *   place for the grace period and moves it to the new socket), with a new connection.
 * - Leave (the button, the page going away, sign-out): `room.leave` and the teardown.
 */
import type { RoomGatewayEvent } from '../../gateway/client';
import type { AppState } from '../../stores';
import { leftReasonText } from '../../stores/rooms/selectors';
import type { RoomMedia } from '../../stores/rooms/reducer';
import { callsSelectors } from '../../stores/calls/selectors';
import { connectionSelectors } from '../../stores/connection/selectors';
import { resolveRoomEnv, type RoomControllerOptions, type RoomEnv } from './deps';
import { RoomMediaStore, type RoomMediaView } from './mediaView';
import { RoomCall } from './session';

export type { RoomControllerOptions, RoomGateway, RoomObserver } from './deps';
export type { RoomMediaView } from './mediaView';

/** Reasons after which the room is joined again by itself (once). */
const REJOIN_REASONS = new Set(['node_lost', 'disconnected']);

export class RoomController {
  private readonly env: RoomEnv;
  private readonly media = new RoomMediaStore();
  private call: RoomCall | null = null;
  private unsubscribers: (() => void)[] = [];

  constructor(options: RoomControllerOptions) {
    this.env = resolveRoomEnv(options);
  }

  private get state(): AppState {
    return this.env.store.getState();
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  start(): void {
    if (this.unsubscribers.length) return;
    this.unsubscribers = [
      this.env.store.subscribe((s, prev) => this.reconcile(s, prev)),
      this.env.gateway.onRoomEvent((e) => this.onEvent(e)),
    ];
  }

  stop(): void {
    for (const u of this.unsubscribers) u();
    this.unsubscribers = [];
    this.teardown();
  }

  // ---- what the UI calls ---------------------------------------------------------------------

  /** Whether a room can be joined now: not in a call or room, the socket open. */
  canJoin(): boolean {
    return !this.state.rooms.session && callsSelectors.canStart(this.state) && connectionSelectors.isOpen(this.state);
  }

  /** Joins (or starts) the room of a group conversation. Returns false if that cannot be done now. */
  join(conversationId: string, media: RoomMedia): boolean {
    if (!this.canJoin()) return false;
    this.state.roomsJoinRequested(conversationId, media);
    if (!this.env.gateway.send({ type: 'room.join', conversation_id: conversationId })) {
      this.state.roomsLeft(conversationId, 'error');
      this.env.notify.error('Could not join the call', 'You are not connected to the server.');
      return false;
    }
    const call = new RoomCall(conversationId, this.env, this.media);
    this.call = call;
    call.requestMedia(media === 'video');
    return true;
  }

  /** Leaves the room (the button; the page going away; signing out). */
  leave(): void {
    const s = this.state.rooms.session;
    if (!s) return;
    this.env.gateway.send({ type: 'room.leave', conversation_id: s.conversationId });
    this.teardown();
    this.state.roomsLeft(s.conversationId, 'left');
  }

  toggleMic(): void {
    const s = this.state.rooms.session;
    if (!s) return;
    this.state.roomsMicToggled(s.conversationId);
    this.call?.applyTrackState();
    this.sendMute('microphone');
  }

  toggleCamera(): void {
    const s = this.state.rooms.session;
    const call = this.call;
    if (!s || !call || s.noCamera) return;
    this.state.roomsCameraToggled(s.conversationId);
    if (!call.local.camera && s.cameraOff) {
      // An audio join turning the camera on: ask for it now.
      void call.addCamera().then((ok) => {
        if (call.closed) return;
        if (!ok && this.state.rooms.session?.cameraOff === false) this.state.roomsCameraToggled(s.conversationId);
        this.sendMute('camera');
      });
      return;
    }
    call.applyTrackState();
    this.sendMute('camera');
  }

  /** Starts or stops sharing the screen. */
  async toggleScreenShare(): Promise<void> {
    const s = this.state.rooms.session;
    const call = this.call;
    if (!s || !call) return;
    if (s.screenSharing) {
      this.stopScreenShare();
      return;
    }
    const cid = s.conversationId;
    const started = await call.startScreen(() => {
      if (this.call === call) this.stopScreenShare();
    });
    if (started && this.call === call) this.state.roomsScreenSharing(cid, true);
  }

  stopScreenShare(): void {
    const s = this.state.rooms.session;
    if (!s || !this.call) return;
    this.call.stopScreen();
    this.state.roomsScreenSharing(s.conversationId, false);
  }

  /** Whether this browser can share a screen at all. */
  canShareScreen(): boolean {
    return typeof this.env.getDisplayMedia === 'function';
  }

  /** The cameras and microphones of this device (labels once the permission was given). */
  async listDevices(): Promise<MediaDeviceInfo[]> {
    try {
      return (await this.env.enumerateDevices?.()) ?? [];
    } catch {
      return [];
    }
  }

  /** Switches to another camera or microphone, mid-call. */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    const call = this.call;
    if (!call) return;
    await call.switchDevice(kind, deviceId);
  }

  /** A remote video's size on screen (null: its tile is gone), for `room.view`. */
  setTileSize = (userId: string, source: 'camera' | 'screen', size: { width: number; height: number } | null): void => {
    this.call?.setTileSize(userId, source, size);
  };

  /** The media view (streams) for the UI, as an external store. */
  subscribe = (listener: () => void): (() => void) => this.media.subscribe(listener);

  getMedia = (): RoomMediaView => this.media.get();

  // ---- following the store ---------------------------------------------------------------------

  private reconcile(s: AppState, prev: AppState): void {
    // The session went away without us (sign-out resets the slice): tear down.
    if (this.call && (!s.rooms.session || s.rooms.session.conversationId !== this.call.conversationId)) this.teardown();
    if (this.call && s.connection.status === 'open' && prev.connection.status !== 'open') this.socketBack();
  }

  /**
   * A new socket: the server binds our place in the room to the socket, and keeps it for
   * `calls.reconnect_grace_secs` for a `room.join` from the new one, which replaces the old
   * connection. So: join again, with a new peer connection and the same media.
   */
  private socketBack(): void {
    const s = this.state.rooms.session;
    const call = this.call;
    if (!s || !call) return;
    call.closePeer();
    this.state.roomsRejoining(s.conversationId, true);
    this.env.gateway.send({ type: 'room.join', conversation_id: s.conversationId });
  }

  private sendMute(source: 'microphone' | 'camera'): void {
    const s = this.state.rooms.session;
    // Before `room.joined` the server does not know us yet: the start of the peer sends it.
    if (!s || s.phase === 'joining') return;
    this.env.gateway.send({
      type: 'room.mute',
      conversation_id: s.conversationId,
      source,
      muted: source === 'microphone' ? s.muted : s.cameraOff,
    });
  }

  // ---- what the gateway hands us -------------------------------------------------------------

  private onEvent(e: RoomGatewayEvent): void {
    const s = this.state.rooms.session;
    const call = this.call;
    const cid = e.type === 'room.joined' ? e.room.conversation_id : e.conversation_id;
    const ours = !!s && !!call && cid === s.conversationId;
    switch (e.type) {
      case 'room.joined':
        if (!ours) {
          // We left before the server had us in: say so again.
          if (!s) this.env.gateway.send({ type: 'room.leave', conversation_id: e.room.conversation_id });
          return;
        }
        {
          const joining = s!.phase === 'joining';
          this.state.roomsJoined(e.room, e.max_video_kbps);
          // A repeated room.joined (we are in already) only updates the room.
          if (joining) void call!.startPeer(e.max_video_kbps || null);
        }
        return;
      case 'room.answer':
        if (ours) call!.answer(e.sdp, e.slots);
        return;
      case 'room.slots':
        if (ours) call!.applySlots(e.slots);
        return;
      case 'room.renegotiate':
        if (ours) call!.renegotiate(e.audio, e.video);
        return;
      case 'room.speakers':
        if (ours) this.state.roomsSpeakers(e.conversation_id, e.speakers);
        return;
      case 'room.left':
        if (ours) this.left(e.reason);
        return;
      case 'error':
        if (ours) this.error(e.code, e.message);
        return;
    }
  }

  private left(reason: string): void {
    const s = this.state.rooms.session!;
    const call = this.call!;
    if (REJOIN_REASONS.has(reason) && !s.rejoined) {
      // The room restarts on a live node (or we were gone too long): join again, keeping our media.
      call.closePeer();
      this.state.roomsRejoining(s.conversationId);
      if (this.env.gateway.send({ type: 'room.join', conversation_id: s.conversationId })) return;
    }
    this.end(reason);
  }

  private error(code: string, message: string | undefined): void {
    const s = this.state.rooms.session!;
    const call = this.call!;
    if (s.phase === 'joining') {
      this.end('error');
      this.env.notify.error(joinErrorText(code), code === 'room_full' || code === 'already_in_call' ? undefined : message);
      return;
    }
    switch (code) {
      case 'unavailable':
      case 'rate_limited':
        // The room's node is busy or away: the offer is tried again (a lost node says node_lost).
        if (call.negotiator.offering) call.negotiator.failed();
        return;
      case 'room_not_joined':
        // The server no longer has us: join again, once.
        this.left('disconnected');
        return;
      case 'invalid_sdp':
      case 'validation_failed':
        if (call.negotiator.offering) {
          this.env.gateway.send({ type: 'room.leave', conversation_id: s.conversationId });
          this.end('failed');
          return;
        }
        console.warn(`rooms: ${code}: ${message ?? ''}`);
        return;
      default:
        console.warn(`rooms: ${code}: ${message ?? ''}`);
    }
  }

  /** Ends our session with a notice for `reason` (none for a plain leave). */
  private end(reason: string): void {
    const s = this.state.rooms.session;
    if (!s) return;
    this.teardown();
    this.state.roomsLeft(s.conversationId, reason);
    const text = reason === 'error' ? null : leftReasonText(reason);
    if (text) this.env.notify.info(text.title, text.description);
  }

  // ---- the one way out ---------------------------------------------------------------------

  private teardown(): void {
    const call = this.call;
    this.call = null;
    call?.close();
    this.media.reset();
  }
}

function joinErrorText(code: string): string {
  switch (code) {
    case 'room_full':
      return 'The call is full';
    case 'already_in_call':
      return 'You are already in a call';
    case 'unavailable':
      return 'The call is not available right now — try again';
    default:
      return 'Could not join the call';
  }
}

