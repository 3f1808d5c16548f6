/**
 * What the room controller is given: the store, the gateway, the API's ICE servers, the
 * browser's WebRTC and media (camera/microphone, screen capture, device list), a notifier
 * and timers. Tests hand in fakes of each; the app wires the real ones (app/rooms.ts).
 */
import type { IceServersResponse } from '../../api/types';
import type { RoomGatewayEvent } from '../../gateway/client';
import { realTimers, type Timers } from '../../gateway/connection';
import type { ClientEvent } from '../../gateway/protocol';
import type { AppStore } from '../../stores';
import type { CallNotifier } from '../calls/deps';

/** The part of the gateway the room controller uses. */
export interface RoomGateway {
  send(event: ClientEvent): boolean;
  onRoomEvent(listener: (e: RoomGatewayEvent) => void): () => void;
}

/**
 * The test seam: told of the live peer connection (the browser tests read it as
 * window.__nexusRoom, see app/testHooks.ts). The controller works the same without it.
 */
export interface RoomObserver {
  peerConnection?(pc: RTCPeerConnection | null, conversationId: string | null): void;
}

export interface RoomControllerOptions {
  store: AppStore;
  gateway: RoomGateway;
  iceServers(): Promise<IceServersResponse>;
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  /** Screen capture; absent where the browser has none (phones). */
  getDisplayMedia?(options: DisplayMediaStreamOptions): Promise<MediaStream>;
  enumerateDevices?(): Promise<MediaDeviceInfo[]>;
  /** `new MediaStream(tracks)`: one stream per remote track, for the <video>/<audio> elements. */
  createMediaStream(tracks: MediaStreamTrack[]): MediaStream;
  notify: CallNotifier;
  /** 'relay' forces TURN (window.__nexusIceTransportPolicy or ?ice=relay). */
  iceTransportPolicy?(): RTCIceTransportPolicy | undefined;
  observer?: RoomObserver;
  timers?: Timers;
}

export interface RoomEnv extends Required<Omit<RoomControllerOptions, 'getDisplayMedia' | 'enumerateDevices'>> {
  getDisplayMedia?(options: DisplayMediaStreamOptions): Promise<MediaStream>;
  enumerateDevices?(): Promise<MediaDeviceInfo[]>;
}

export function resolveRoomEnv(o: RoomControllerOptions): RoomEnv {
  return {
    ...o,
    iceTransportPolicy: o.iceTransportPolicy ?? (() => undefined),
    observer: o.observer ?? {},
    timers: o.timers ?? realTimers,
  };
}

/** What the parts of one room session read: which room, its connection, whether it is over. */
export interface RoomScope {
  readonly conversationId: string;
  readonly closed: boolean;
  readonly pc: RTCPeerConnection | null;
}
