/**
 * What the call controller is given: the store, the gateway, the API's ICE servers, the
 * browser's WebRTC and media, a notifier and timers. Tests hand in fakes of each; the app
 * wires the real ones (app/calls.ts). `resolveEnv` fills in the defaults once, so every
 * part of a call reads the same environment.
 */
import type { IceServersResponse } from '../../api/types';
import type { CallGatewayEvent } from '../../gateway/client';
import { realTimers, type Timers } from '../../gateway/connection';
import type { CallMedia, ClientEvent } from '../../gateway/protocol';
import type { AppStore } from '../../stores';
import type { CallRole } from '../../stores/calls/reducer';

export interface CallNotifier {
  error(message: string, description?: string): void;
  info(message: string, description?: string): void;
}

/** The part of the gateway the controller uses. */
export interface CallGateway {
  send(event: ClientEvent): boolean;
  onCallEvent(listener: (e: CallGatewayEvent) => void): () => void;
}

/** What a test may look at in the current call (a live view, not a copy). */
export interface SessionProbe {
  readonly pc: RTCPeerConnection | null;
  readonly local: MediaStream | null;
  readonly pendingCandidates: number;
}

/**
 * The test seam: told of the live peer connection (the browser tests read it as
 * window.__nexusCall, see app/testHooks.ts) and of the current call (unit tests). The
 * controller works the same without it.
 */
export interface CallObserver {
  peerConnection?(pc: RTCPeerConnection | null): void;
  session?(session: SessionProbe | null): void;
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
  /** Subscribes to the browser's `online` event. */
  onOnline?(listener: () => void): () => void;
  observer?: CallObserver;
  timers?: Timers;
  setInterval?(fn: () => void, ms: number): unknown;
  clearInterval?(handle: unknown): void;
}

/** The options with their defaults filled in. */
export interface CallEnv extends Required<Omit<CallControllerOptions, 'onOnline'>> {
  onOnline?(listener: () => void): () => void;
}

export function resolveEnv(o: CallControllerOptions): CallEnv {
  return {
    ...o,
    iceTransportPolicy: o.iceTransportPolicy ?? (() => undefined),
    observer: o.observer ?? {},
    timers: o.timers ?? realTimers,
    setInterval: o.setInterval ?? ((fn: () => void, ms: number) => globalThis.setInterval(fn, ms)),
    clearInterval: o.clearInterval ?? ((h: unknown) => globalThis.clearInterval(h as ReturnType<typeof setInterval>)),
  };
}

/** What every part of one call reads about it: which call, our role, its connection, whether it is over. */
export interface CallScope {
  readonly callId: string;
  readonly media: CallMedia;
  readonly role: CallRole;
  readonly closed: boolean;
  readonly pc: RTCPeerConnection | null;
}
