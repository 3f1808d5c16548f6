import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallGatewayEvent } from '../../gateway/client';
import type { CallView, ClientEvent } from '../../gateway/protocol';
import { createAppStore, type AppStore } from '../../stores';
import { BOB, ME } from '../../test/fixtures';
import {
  CallController,
  ENDED_NOTICE_MS,
  FAILED_HANGUP_AFTER_MS,
  ICE_RESTART_AFTER_MS,
  PERMISSION_DENIED,
  STATS_INTERVAL_MS,
} from './controller';

// ---- fakes of the browser's media and WebRTC ----------------------------------------------------

class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() {
    this.stopped = true;
  }
}

class FakeStream {
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

class FakePeerConnection {
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

interface Harness {
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
}

const SESSION = 's-me';
const BOB_SESSION = 's-bob';

function setup(opts: { gum?: (c: MediaStreamConstraints) => Promise<unknown> } = {}): Harness {
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
    expose: (pc) => exposed.push(pc),
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
  };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

function view(overrides: Partial<CallView> = {}): CallView {
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

const incoming = (o: Partial<CallView> = {}) => view({ caller_id: BOB.id, callee_id: ME.id, caller_session: BOB_SESSION, ...o });
const ofType = <T extends ClientEvent['type']>(h: Harness, type: T) =>
  h.sent.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
const allTracks = (h: Harness) => h.streams.flatMap((s) => s.tracks);

/** I call Bob; he accepts; my offer is out. */
async function outgoingConnecting(h: Harness, media: 'audio' | 'video' = 'video') {
  expect(h.controller.startCall('c1', BOB.id, media)).toBe(true);
  await flush();
  h.store.getState().callsServerEvent('state', view({ media }));
  h.store.getState().callsServerEvent('state', view({ media, state: 'connecting', callee_session: BOB_SESSION }));
  await flush();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  offers = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('call controller: the caller', () => {
  it('invites, gets media while it rings, and offers once the call is connecting', async () => {
    const h = setup();
    h.controller.startCall('c1', BOB.id, 'video');
    expect(ofType(h, 'call.invite')).toEqual([{ type: 'call.invite', call_id: 'k1', conversation_id: 'c1', media: 'video' }]);
    expect(h.gum).toHaveBeenCalledWith({ audio: true, video: true });
    await flush();
    // Ringing: no peer connection, no ICE servers fetched yet.
    expect(h.pcs).toHaveLength(0);
    expect(h.iceServers).not.toHaveBeenCalled();
    expect(h.controller.getMedia().local).toBe(h.streams[0]);

    h.store.getState().callsServerEvent('state', view({ state: 'connecting', callee_session: BOB_SESSION }));
    await flush();
    expect(h.iceServers).toHaveBeenCalledTimes(1);
    expect(h.pc().config.iceServers).toEqual([{ urls: ['turn:example.org:3478'], username: 'u', credential: 'c' }]);
    expect(h.pc().config.iceTransportPolicy).toBeUndefined();
    expect(h.pc().tracks.map((t) => t.kind)).toEqual(['audio', 'video']);
    expect(ofType(h, 'call.offer')).toEqual([{ type: 'call.offer', call_id: 'k1', sdp: 'offer-1' }]);
    expect(h.exposed).toEqual([h.pc()]);
  });

  it('fetches fresh TURN credentials at 80 % of their lifetime and hands them to the connection', async () => {
    const h = setup();
    h.controller.startCall('c1', BOB.id, 'video');
    await flush();
    h.store.getState().callsServerEvent('state', view({ state: 'connecting', callee_session: BOB_SESSION }));
    await flush();
    expect(h.iceServers).toHaveBeenCalledTimes(1);
    h.iceServers.mockResolvedValueOnce({ ice_servers: [{ urls: ['turn:example.org:3478'], username: 'u2', credential: 'c2' }], ttl: 600 });
    await vi.advanceTimersByTimeAsync(479_999);
    expect(h.iceServers).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.iceServers).toHaveBeenCalledTimes(2);
    expect(h.pc().getConfiguration().iceServers).toEqual([{ urls: ['turn:example.org:3478'], username: 'u2', credential: 'c2' }]);
    // After the call, no more fetching.
    h.controller.hangUp();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(h.iceServers).toHaveBeenCalledTimes(2);
  });

  it('remote candidates wait for the remote description, then are added in order', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const c1 = { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 };
    const c2 = { candidate: 'candidate:2', sdpMid: '0', sdpMLineIndex: 0 };
    h.relayEvent({ type: 'call.ice', call_id: 'k1', from: BOB.id, candidate: c1 });
    h.relayEvent({ type: 'call.ice', call_id: 'k1', from: BOB.id, candidate: c2 });
    await flush();
    expect(h.pc().addedCandidates).toEqual([]);
    expect(h.controller.current?.pendingCandidates).toBe(2);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'bob-answer' });
    await flush();
    expect(h.pc().log).toEqual(['local:offer', 'remote:answer', 'candidate', 'candidate']);
    expect(h.pc().addedCandidates).toEqual([c1, c2]);
    expect(h.controller.current?.pendingCandidates).toBe(0);
    // Later ones go straight in; end-of-candidates too.
    h.relayEvent({ type: 'call.ice', call_id: 'k1', from: BOB.id, candidate: null });
    await flush();
    expect(h.pc().addedCandidates).toHaveLength(3);
  });

  it('trickles its own candidates and says call.connected once the connection is up', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const json = { candidate: 'candidate:9', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'f' };
    h.pc().onicecandidate?.({ candidate: { toJSON: () => json } });
    h.pc().onicecandidate?.({ candidate: null });
    expect(ofType(h, 'call.ice')).toEqual([
      { type: 'call.ice', call_id: 'k1', candidate: json },
      { type: 'call.ice', call_id: 'k1', candidate: null },
    ]);
    h.pc().setConnection('connecting');
    expect(ofType(h, 'call.connected')).toEqual([]);
    h.pc().setConnection('connected');
    h.pc().setConnection('disconnected');
    expect(h.store.getState().calls).toMatchObject({ phase: 'connected', interrupted: true });
    h.pc().setConnection('connected');
    expect(ofType(h, 'call.connected')).toEqual([{ type: 'call.connected', call_id: 'k1' }]);
    expect(h.store.getState().calls.interrupted).toBe(false);
  });

  it('hanging up closes the peer connection and stops every local track — once, for good', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const pc = h.pc();
    pc.setConnection('connected');
    h.controller.hangUp();
    expect(ofType(h, 'call.hangup')).toEqual([{ type: 'call.hangup', call_id: 'k1', reason: 'hangup' }]);
    expect(pc.closed).toBe(true);
    expect(pc.onicecandidate).toBeNull();
    expect(allTracks(h).every((t) => t.stopped)).toBe(true);
    expect(h.exposed).toEqual([pc, null]);
    expect(h.controller.current).toBeNull();
    expect(h.controller.getMedia()).toMatchObject({ local: null, remote: null });
    expect(h.store.getState().calls).toMatchObject({ phase: 'ended', endReason: 'hangup' });
    // Nothing more goes out for a dead connection.
    pc.onicecandidate?.({ candidate: null });
    h.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'late' });
    await flush();
    expect(pc.log).not.toContain('remote:offer');
    await vi.advanceTimersByTimeAsync(ENDED_NOTICE_MS);
    expect(h.store.getState().calls.phase).toBe('idle');
  });

  it('the other side hanging up tears down the same way', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const pc = h.pc();
    h.store.getState().callsServerEvent('state', view({ state: 'ended', reason: 'hangup', callee_session: BOB_SESSION }));
    expect(pc.closed).toBe(true);
    expect(allTracks(h).every((t) => t.stopped)).toBe(true);
    expect(h.exposed.at(-1)).toBeNull();
  });

  it('cancelling while the browser still asks for the camera: the late stream is stopped at once', async () => {
    let resolve!: (s: FakeStream) => void;
    const h = setup({ gum: () => new Promise((r) => (resolve = r)) });
    h.controller.startCall('c1', BOB.id, 'video');
    h.controller.hangUp();
    expect(ofType(h, 'call.hangup')).toEqual([{ type: 'call.hangup', call_id: 'k1', reason: 'hangup' }]);
    expect(h.store.getState().calls.endReason).toBe('cancelled');
    const late = new FakeStream([new FakeTrack('audio'), new FakeTrack('video')]);
    resolve(late);
    await flush();
    expect(late.tracks.every((t) => t.stopped)).toBe(true);
    expect(h.pcs).toHaveLength(0);
  });

  it('mute and camera off switch the local tracks', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const [audio, video] = h.streams[0]!.tracks;
    h.controller.toggleMic();
    expect(audio!.enabled).toBe(false);
    h.controller.toggleCamera();
    expect(video!.enabled).toBe(false);
    h.controller.toggleMic();
    expect(audio!.enabled).toBe(true);
  });

  it('forces TURN when the relay hook is set', async () => {
    const h = setup();
    h.relay.on = true;
    await outgoingConnecting(h);
    expect(h.pc().config.iceTransportPolicy).toBe('relay');
  });

  it('permission denied: says how to fix it and cancels the call', async () => {
    const h = setup({ gum: async () => Promise.reject(Object.assign(new Error('no'), { name: 'NotAllowedError' })) });
    h.controller.startCall('c1', BOB.id, 'video');
    await flush();
    expect(h.notify.error).toHaveBeenCalledWith(PERMISSION_DENIED);
    expect(ofType(h, 'call.hangup')).toHaveLength(1);
    expect(h.store.getState().calls).toMatchObject({ phase: 'ended', endReason: 'failed' });
  });

  it('no camera: audio only, said so, and it still receives video', async () => {
    const h = setup({
      gum: async (c) => {
        if (c.video) throw Object.assign(new Error('none'), { name: 'NotFoundError' });
        return new FakeStream([new FakeTrack('audio')]);
      },
    });
    await outgoingConnecting(h);
    expect(h.notify.info).toHaveBeenCalledWith('No camera found', 'The call goes on with audio only.');
    expect(h.store.getState().calls.audioOnly).toBe(true);
    expect(h.pc().tracks.map((t) => t.kind)).toEqual(['audio']);
    expect(h.pc().transceivers).toEqual([{ kind: 'video', direction: 'recvonly' }]);
  });

  it('cannot start a second call, nor one while offline', async () => {
    const h = setup();
    await outgoingConnecting(h);
    expect(h.controller.startCall('c2', 'carol', 'audio')).toBe(false);
    const g = setup();
    g.store.getState().connectionChanged('offline');
    expect(g.controller.startCall('c1', BOB.id, 'audio')).toBe(false);
    expect(g.sent).toEqual([]);
  });
});

describe('call controller: the callee', () => {
  it('asks for media only after Accept, then accepts and answers the caller’s offer', async () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming({ media: 'audio' }));
    await flush();
    expect(h.gum).not.toHaveBeenCalled();
    h.controller.accept();
    expect(h.gum).toHaveBeenCalledWith({ audio: true });
    await flush();
    expect(ofType(h, 'call.accept')).toEqual([{ type: 'call.accept', call_id: 'k1' }]);
    expect(h.store.getState().calls.phase).toBe('connecting');
    await flush();
    // The callee does not offer first.
    expect(ofType(h, 'call.offer')).toEqual([]);
    h.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'bob-offer' });
    await flush();
    expect(h.pc().log).toEqual(['remote:offer', 'local:answer']);
    expect(ofType(h, 'call.answer')).toEqual([{ type: 'call.answer', call_id: 'k1', sdp: 'answer-to-bob-offer' }]);
  });

  it('permission denied after Accept rejects the call', async () => {
    const h = setup({ gum: async () => Promise.reject(Object.assign(new Error('no'), { name: 'NotAllowedError' })) });
    h.store.getState().callsServerEvent('ringing', incoming());
    h.controller.accept();
    await flush();
    expect(h.notify.error).toHaveBeenCalledWith(PERMISSION_DENIED);
    expect(ofType(h, 'call.reject')).toEqual([{ type: 'call.reject', call_id: 'k1' }]);
    expect(ofType(h, 'call.accept')).toEqual([]);
    expect(h.store.getState().calls.phase).toBe('idle');
    expect(h.pcs).toHaveLength(0);
  });

  it('declining sends call.reject and never touches the camera', () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming());
    h.controller.decline();
    expect(ofType(h, 'call.reject')).toEqual([{ type: 'call.reject', call_id: 'k1' }]);
    expect(h.gum).not.toHaveBeenCalled();
  });

  it('a call on another device of mine never gets a peer connection here', async () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming());
    h.store.getState().callsServerEvent('state', incoming({ state: 'ended', reason: 'answered_elsewhere' }));
    h.store.getState().callsServerEvent('state', incoming({ state: 'active', callee_session: 's-my-phone' }));
    await flush();
    expect(h.notify.info).toHaveBeenCalledWith('Answered on another device');
    expect(h.pcs).toHaveLength(0);
    expect(h.gum).not.toHaveBeenCalled();
    expect(h.store.getState().calls.elsewhere).toMatchObject({ id: 'k1' });
  });
});

describe('call controller: keeping the connection', () => {
  it('ICE down for 2 s: restarts with an offer that has iceRestart, again while it lasts', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a' });
    await flush();
    h.pc().setConnection('connected');
    h.pc().setIce('disconnected');
    await vi.advanceTimersByTimeAsync(ICE_RESTART_AFTER_MS - 1);
    expect(ofType(h, 'call.offer')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(ofType(h, 'call.offer').at(-1)?.sdp).toBe('offer-2-restart');
    expect(h.pc().offerOptions.at(-1)).toEqual({ iceRestart: true });
    // Recovered: no more restarts.
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a2' });
    await flush();
    h.pc().setIce('connected');
    await vi.advanceTimersByTimeAsync(ICE_RESTART_AFTER_MS * 3);
    expect(ofType(h, 'call.offer')).toHaveLength(2);
  });

  it('a blip shorter than 2 s restarts nothing', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.pc().setIce('disconnected');
    await vi.advanceTimersByTimeAsync(1_000);
    h.pc().setIce('connected');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ofType(h, 'call.offer')).toHaveLength(1);
  });

  it('back online: an ICE restart at once (the callee may restart too)', async () => {
    const h = setup();
    h.store.getState().callsServerEvent('ringing', incoming());
    h.controller.accept();
    await flush();
    h.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'bob-offer' });
    await flush();
    h.online();
    await flush();
    expect(ofType(h, 'call.offer')).toEqual([{ type: 'call.offer', call_id: 'k1', sdp: 'offer-1-restart' }]);
  });

  it('failed for 10 s despite the restart: hangs up with reason failed', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a' });
    await flush();
    h.pc().setConnection('connected');
    const pc = h.pc();
    pc.setConnection('failed');
    await flush();
    expect(ofType(h, 'call.offer').at(-1)?.sdp).toMatch(/restart/);
    await vi.advanceTimersByTimeAsync(FAILED_HANGUP_AFTER_MS);
    expect(ofType(h, 'call.hangup')).toEqual([{ type: 'call.hangup', call_id: 'k1', reason: 'failed' }]);
    expect(h.store.getState().calls).toMatchObject({ phase: 'ended', endReason: 'failed' });
    expect(pc.closed).toBe(true);
  });

  it('failed, then recovered within 10 s: the call goes on', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.pc().setConnection('connected');
    h.pc().setConnection('failed');
    await vi.advanceTimersByTimeAsync(3_000);
    h.pc().setConnection('connected');
    await vi.advanceTimersByTimeAsync(FAILED_HANGUP_AFTER_MS);
    expect(ofType(h, 'call.hangup')).toEqual([]);
    expect(h.store.getState().calls.phase).toBe('connected');
  });

  it('crossing offers: the caller keeps its own; the callee rolls back and answers', async () => {
    const caller = setup();
    await outgoingConnecting(caller); // have-local-offer
    caller.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'bob-restart' });
    await flush();
    expect(caller.pc().log).toEqual(['local:offer']);
    expect(ofType(caller, 'call.answer')).toEqual([]);

    const callee = setup();
    callee.store.getState().callsServerEvent('ringing', incoming());
    callee.controller.accept();
    await flush();
    callee.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'first' });
    await flush();
    callee.online(); // our own restart offer goes out…
    await flush();
    callee.relayEvent({ type: 'call.offer', call_id: 'k1', from: BOB.id, sdp: 'crossing' }); // …and crosses his
    await flush();
    expect(callee.pc().log.slice(-4)).toEqual(['local:offer', 'local:rollback', 'remote:offer', 'local:answer']);
    expect(ofType(callee, 'call.answer').at(-1)?.sdp).toBe('answer-to-crossing');
  });

  it('an offer that could not be sent (socket down) is taken back and sent after the rejoin', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.relayEvent({ type: 'call.answer', call_id: 'k1', from: BOB.id, sdp: 'a' });
    await flush();
    h.pc().setConnection('connected');
    h.socketUp.ok = false;
    h.online();
    await flush();
    expect(h.pc().signalingState).toBe('stable');
    expect(h.pc().log.at(-1)).toBe('local:rollback');
    h.socketUp.ok = true;
    const listed = view({ state: 'active', callee_session: BOB_SESSION });
    h.store.getState().callsReady('s-me-2', new Date().toISOString(), [listed]);
    expect(h.store.getState().calls.rejoining).toBe(true);
    h.store.getState().callsServerEvent('state', { ...listed, caller_session: 's-me-2' });
    await flush();
    expect(ofType(h, 'call.offer').at(-1)?.sdp).toMatch(/restart/);
  });

  it('samples getStats every 2 s into the quality hint', async () => {
    const h = setup();
    await outgoingConnecting(h);
    h.pc().stats = [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
      { id: 'P', type: 'candidate-pair', currentRoundTripTime: 0.6 },
    ];
    await vi.advanceTimersByTimeAsync(STATS_INTERVAL_MS);
    expect(h.controller.getMedia()).toMatchObject({ quality: 'poor', rttMs: 600 });
    h.controller.hangUp();
    expect(h.controller.getMedia().quality).toBeNull();
  });

  it('stop() (sign-out) tears the call down too', async () => {
    const h = setup();
    await outgoingConnecting(h);
    const pc = h.pc();
    h.controller.stop();
    expect(pc.closed).toBe(true);
    expect(allTracks(h).every((t) => t.stopped)).toBe(true);
  });
});
