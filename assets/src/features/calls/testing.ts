/**
 * Test-only: fakes of the browser's media and WebRTC, and a harness that runs a real
 * CallController against them with a fresh store, a fake gateway and fake timers. The
 * call tests beside it (controller, localMedia, signaling, connectionWatch, credentials,
 * qualitySampler) drive the controller as the UI and the server would, and look into the
 * current call only through the controller's observer.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { CallGatewayEvent } from '../../gateway/client';
import type { CallView, ClientEvent } from '../../gateway/protocol';
import { createAppStore, type AppStore } from '../../stores';
import { BOB, ME } from '../../test/fixtures';
import { CallController } from './controller';
import type { SessionProbe } from './deps';

// ---- fakes of the browser's media and WebRTC ----------------------------------------------------

export class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() {
    this.stopped = true;
  }
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getTracks() {
    return this.tracks;
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
}

let offers = 0;

export class FakePeerConnection {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  closed = false;
  tracks: FakeTrack[] = [];
  transceivers: { kind: string; direction: string }[] = [];
  addedCandidates: unknown[] = [];
  offerOptions: (RTCOfferOptions | undefined)[] = [];
  /** Ordered log of what was done to it. */
  log: string[] = [];
  stats: Record<string, unknown>[] = [];
  onicecandidate: ((e: { candidate: { toJSON(): unknown } | null }) => void) | null = null;
  ontrack: ((e: { streams: FakeStream[]; track: FakeTrack }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;

  configs: RTCConfiguration[] = [];
  constructor(readonly config: RTCConfiguration) {
    this.configs.push(config);
  }
  getConfiguration() {
    return this.configs[this.configs.length - 1]!;
  }
  setConfiguration(c: RTCConfiguration) {
    if (this.closed) throw new Error('closed');
    this.configs.push(c);
  }

  addTrack(track: FakeTrack) {
    this.tracks.push(track);
  }
  addTransceiver(kind: string, init: { direction: string }) {
    this.transceivers.push({ kind, direction: init.direction });
  }
  async createOffer(options?: RTCOfferOptions) {
    this.offerOptions.push(options);
    return { type: 'offer' as const, sdp: `offer-${++offers}${options?.iceRestart ? '-restart' : ''}` };
  }
  async createAnswer() {
    return { type: 'answer' as const, sdp: `answer-to-${this.remoteDescription?.sdp}` };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.log.push(`local:${d.type}`);
    if (d.type === 'rollback') {
      this.localDescription = null;
      this.signalingState = 'stable';
      return;
    }
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.log.push(`remote:${d.type}`);
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate(c?: unknown) {
    this.log.push('candidate');
    this.addedCandidates.push(c);
  }
  async getStats() {
    return new Map(this.stats.map((s) => [s.id as string, s]));
  }
  close() {
    this.closed = true;
    this.connectionState = 'closed';
  }
  // what the network does
  setConnection(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
  setIce(state: RTCIceConnectionState) {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
  }
}

// ---- harness --------------------------------------------------------------------------------

export interface Harness {
  store: AppStore;
  controller: CallController;
  sent: ClientEvent[];
  pcs: FakePeerConnection[];
  pc: () => FakePeerConnection;
  streams: FakeStream[];
  gum: ReturnType<typeof vi.fn>;
  iceServers: ReturnType<typeof vi.fn>;
  notify: { error: ReturnType<typeof vi.fn>; info: ReturnType<typeof vi.fn> };
  exposed: (RTCPeerConnection | null)[];
  relay: { on: boolean };
  online: () => void;
  relayEvent: (e: CallGatewayEvent) => void;
  socketUp: { ok: boolean };
  /** The current call as the controller's observer last reported it (null: none). */
  current: () => SessionProbe | null;
}

export const SESSION = 's-me';
export const BOB_SESSION = 's-bob';

export function setup(opts: { gum?: (c: MediaStreamConstraints) => Promise<unknown> } = {}): Harness {
  const store = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: ME, access_token: 't', token_type: 'Bearer', expires_in: 900 });
  store.getState().connectionChanged('open');
  store.getState().callsReady(SESSION, new Date().toISOString(), []);
  const sent: ClientEvent[] = [];
  const pcs: FakePeerConnection[] = [];
  const streams: FakeStream[] = [];
  let listener: ((e: CallGatewayEvent) => void) | null = null;
  let onOnline: (() => void) | null = null;
  const socketUp = { ok: true };
  const relay = { on: false };
  const exposed: (RTCPeerConnection | null)[] = [];
  let current: SessionProbe | null = null;
  const gum = vi.fn(
    opts.gum ??
      (async (c: MediaStreamConstraints) => {
        const s = new FakeStream([new FakeTrack('audio'), ...(c.video ? [new FakeTrack('video')] : [])]);
        streams.push(s);
        return s;
      }),
  );
  const iceServers = vi.fn(async () => ({ ice_servers: [{ urls: ['turn:example.org:3478'], username: 'u', credential: 'c' }], ttl: 600 }));
  const notify = { error: vi.fn(), info: vi.fn() };
  const controller = new CallController({
    store,
    gateway: {
      send: (e) => {
        if (!socketUp.ok) return false;
        sent.push(e);
        return true;
      },
      onCallEvent: (l) => {
        listener = l;
        return () => (listener = null);
      },
    },
    iceServers,
    createPeerConnection: (config) => {
      const pc = new FakePeerConnection(config);
      pcs.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    getUserMedia: gum as unknown as (c: MediaStreamConstraints) => Promise<MediaStream>,
    notify,
    newCallId: () => 'k1',
    iceTransportPolicy: () => (relay.on ? 'relay' : undefined),
    observer: {
      peerConnection: (pc) => exposed.push(pc),
      session: (s) => (current = s),
    },
    onOnline: (l) => {
      onOnline = l;
      return () => (onOnline = null);
    },
  });
  controller.start();
  return {
    store,
    controller,
    sent,
    pcs,
    pc: () => pcs[pcs.length - 1]!,
    streams,
    gum,
    iceServers,
    notify,
    exposed,
    relay,
    online: () => onOnline?.(),
    relayEvent: (e) => listener?.(e),
    socketUp,
    current: () => current,
  };
}

export const flush = () => vi.advanceTimersByTimeAsync(0);

export function view(overrides: Partial<CallView> = {}): CallView {
  return {
    call_id: 'k1',
    conversation_id: 'c1',
    media: 'video',
    caller_id: ME.id,
    callee_id: BOB.id,
    state: 'ringing',
    reason: null,
    caller_session: SESSION,
    callee_session: null,
    created_at: 't',
    answered_at: null,
    ended_at: null,
    ...overrides,
  };
}

export const incoming = (o: Partial<CallView> = {}) => view({ caller_id: BOB.id, callee_id: ME.id, caller_session: BOB_SESSION, ...o });
export const ofType = <T extends ClientEvent['type']>(h: Harness, type: T) =>
  h.sent.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
export const allTracks = (h: Harness) => h.streams.flatMap((s) => s.tracks);

/** I call Bob; he accepts; my offer is out. */
export async function outgoingConnecting(h: Harness, media: 'audio' | 'video' = 'video') {
  expect(h.controller.startCall('c1', BOB.id, media)).toBe(true);
  await flush();
  h.store.getState().callsServerEvent('state', view({ media }));
  h.store.getState().callsServerEvent('state', view({ media, state: 'connecting', callee_session: BOB_SESSION }));
  await flush();
}

/** Fake timers for every call test; each test starts its SDP numbering afresh. */
export function useCallTestClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    offers = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
