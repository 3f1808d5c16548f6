/**
 * Test-only: fakes of the browser's media and WebRTC as a room uses them (transceivers,
 * mids given out by setLocalDescription, rollback), and a harness that runs a real
 * RoomController against them with a fresh store, a fake gateway and fake timers.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import type { RoomGatewayEvent } from '../../gateway/client';
import type { ClientEvent, RoomParticipant, RoomView } from '../../gateway/protocol';
import { createAppStore, type AppStore } from '../../stores';
import { ME } from '../../test/fixtures';
import { RoomController } from './controller';

export class FakeTrack {
  enabled = true;
  stopped = false;
  private readonly listeners = new Map<string, () => void>();
  constructor(
    readonly kind: 'audio' | 'video',
    readonly label: string = kind,
    readonly deviceId = `${kind}-default`,
  ) {}
  stop() {
    this.stopped = true;
  }
  getSettings() {
    return { deviceId: this.deviceId };
  }
  addEventListener(type: string, fn: () => void) {
    this.listeners.set(type, fn);
  }
  /** The browser ended it (e.g. "Stop sharing"). */
  end() {
    this.stopped = true;
    this.listeners.get('ended')?.();
  }
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[] = []) {}
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack) {
    const i = this.tracks.indexOf(t);
    if (i >= 0) this.tracks.splice(i, 1);
  }
}

export class FakeTransceiver {
  mid: string | null = null;
  stopped = false;
  currentDirection: string | null = null;
  readonly receiver: { track: FakeTrack };
  readonly sender: { track: FakeTrack | null; replaceTrack: ReturnType<typeof vi.fn> };
  constructor(
    readonly kind: 'audio' | 'video',
    public direction: RTCRtpTransceiverDirection,
    track: FakeTrack | null,
    readonly init: RTCRtpTransceiverInit,
  ) {
    this.receiver = { track: new FakeTrack(kind, `remote-${kind}`) };
    const sender = {
      track,
      replaceTrack: vi.fn(async (t: FakeTrack | null) => {
        sender.track = t;
      }),
    };
    this.sender = sender;
  }
  stop() {
    this.stopped = true;
    this.direction = 'stopped';
  }
}

let offers = 0;

export class FakeRoomPeerConnection {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  closed = false;
  transceivers: FakeTransceiver[] = [];
  log: string[] = [];
  offerOptions: (RTCOfferOptions | undefined)[] = [];
  private nextMid = 0;
  ontrack: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  configs: RTCConfiguration[] = [];
  constructor(readonly config: RTCConfiguration) {
    this.configs.push(config);
  }
  getConfiguration() {
    return this.configs[this.configs.length - 1]!;
  }
  setConfiguration(c: RTCConfiguration) {
    this.configs.push(c);
  }
  addTransceiver(trackOrKind: FakeTrack | 'audio' | 'video', init: RTCRtpTransceiverInit = {}) {
    const track = typeof trackOrKind === 'string' ? null : trackOrKind;
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind;
    const t = new FakeTransceiver(kind, init.direction ?? 'sendrecv', track, init);
    this.transceivers.push(t);
    this.log.push(`add:${kind}:${t.direction}`);
    return t;
  }
  getTransceivers() {
    return this.transceivers.filter((t) => !(t.stopped && t.currentDirection === 'stopped'));
  }
  async createOffer(options?: RTCOfferOptions) {
    this.offerOptions.push(options);
    return { type: 'offer' as const, sdp: `offer-${++offers}${options?.iceRestart ? '-restart' : ''}` };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.log.push(`local:${d.type}`);
    if (d.type === 'rollback') {
      this.localDescription = null;
      this.signalingState = 'stable';
      return;
    }
    for (const t of this.transceivers) if (t.mid === null && !t.stopped) t.mid = String(this.nextMid++);
    this.localDescription = d;
    this.signalingState = 'have-local-offer';
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.log.push(`remote:${d.type}`);
    this.remoteDescription = d;
    this.signalingState = 'stable';
    for (const t of this.transceivers) if (t.stopped) t.currentDirection = 'stopped';
    this.ontrack?.();
  }
  async getStats() {
    return new Map();
  }
  close() {
    this.closed = true;
    this.connectionState = 'closed';
    this.signalingState = 'closed';
  }
  setConnection(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
  /** The transceivers by direction and kind, e.g. 'recvonly:video'. */
  count(what: string) {
    return this.transceivers.filter((t) => !t.stopped && `${t.direction}:${t.kind}` === what).length;
  }
  recvonly(kind: 'audio' | 'video') {
    return this.transceivers.filter((t) => t.direction === 'recvonly' && t.kind === kind);
  }
}

export interface RoomHarness {
  store: AppStore;
  controller: RoomController;
  sent: ClientEvent[];
  pcs: FakeRoomPeerConnection[];
  pc: () => FakeRoomPeerConnection;
  gum: ReturnType<typeof vi.fn>;
  gdm: ReturnType<typeof vi.fn>;
  streams: FakeStream[];
  notify: { error: ReturnType<typeof vi.fn>; info: ReturnType<typeof vi.fn> };
  exposed: (RTCPeerConnection | null)[];
  event: (e: RoomGatewayEvent) => void;
  socketUp: { ok: boolean };
}

export function setupRoom(opts: { gum?: (c: MediaStreamConstraints) => Promise<unknown> } = {}): RoomHarness {
  const store = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
  store.getState().connectionChanged('open');
  store.getState().callsReady('s-me', new Date().toISOString(), []);
  const sent: ClientEvent[] = [];
  const pcs: FakeRoomPeerConnection[] = [];
  const streams: FakeStream[] = [];
  const exposed: (RTCPeerConnection | null)[] = [];
  const socketUp = { ok: true };
  let listener: ((e: RoomGatewayEvent) => void) | null = null;
  const gum = vi.fn(
    opts.gum ??
      (async (c: MediaStreamConstraints) => {
        const video = c.video ? [new FakeTrack('video', 'camera', typeof c.video === 'object' && c.video.deviceId ? 'cam-2' : 'cam-1')] : [];
        const audio = c.audio ? [new FakeTrack('audio', 'mic', typeof c.audio === 'object' && c.audio.deviceId ? 'mic-2' : 'mic-1')] : [];
        const s = new FakeStream([...audio, ...video]);
        streams.push(s);
        return s;
      }),
  );
  const gdm = vi.fn(async () => {
    const s = new FakeStream([new FakeTrack('video', 'screen')]);
    streams.push(s);
    return s;
  });
  const notify = { error: vi.fn(), info: vi.fn() };
  const controller = new RoomController({
    store,
    gateway: {
      send: (e) => {
        if (!socketUp.ok) return false;
        sent.push(e);
        return true;
      },
      onRoomEvent: (l) => {
        listener = l;
        return () => (listener = null);
      },
    },
    iceServers: async () => ({ ice_servers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }], ttl: 600 }),
    createPeerConnection: (config) => {
      const pc = new FakeRoomPeerConnection(config);
      pcs.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    getUserMedia: gum as unknown as (c: MediaStreamConstraints) => Promise<MediaStream>,
    getDisplayMedia: gdm as unknown as (o: DisplayMediaStreamOptions) => Promise<MediaStream>,
    enumerateDevices: async () => [],
    createMediaStream: (tracks) => new FakeStream(tracks as unknown as FakeTrack[]) as unknown as MediaStream,
    notify,
    observer: { peerConnection: (pc) => exposed.push(pc) },
  });
  controller.start();
  return {
    store,
    controller,
    sent,
    pcs,
    pc: () => pcs[pcs.length - 1]!,
    gum,
    gdm,
    streams,
    notify,
    exposed,
    event: (e) => listener?.(e),
    socketUp,
  };
}

export const flush = () => vi.advanceTimersByTimeAsync(0);

export const participant = (user_id: string, o: Partial<RoomParticipant> = {}): RoomParticipant => ({
  user_id,
  joined_at: '2026-12-02T10:00:00Z',
  audio_muted: false,
  video_muted: false,
  screen_sharing: false,
  ...o,
});

export function roomView(userIds: string[] = [ME.id], o: Partial<RoomView> = {}): RoomView {
  return { conversation_id: 'g1', room_id: 'r1', started_at: '2026-12-02T10:00:00Z', participants: userIds.map((u) => participant(u)), ...o };
}

export const ofType = <T extends ClientEvent['type']>(h: RoomHarness, type: T) =>
  h.sent.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);

/** I join g1 (video by default); the server has me in; the first offer is out. */
export async function joinedRoom(h: RoomHarness, media: 'audio' | 'video' = 'video', others: string[] = []) {
  h.controller.join('g1', media);
  await flush();
  h.event({ type: 'room.joined', room: roomView([...others, ME.id]), max_video_kbps: 1200 });
  await flush();
}

export function useRoomTestClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    offers = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
