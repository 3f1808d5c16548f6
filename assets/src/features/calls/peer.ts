/**
 * The RTCPeerConnection of one call: created with the ICE servers (and the forced relay
 * policy, if any), given the local tracks, its events handed to the parts that follow
 * them, and the remote tracks gathered into one stream. `close` unhooks every handler
 * before closing, so nothing fires for a dead connection.
 */
import type { CallMedia, IceCandidateJson } from '../../gateway/protocol';

export interface PeerHandlers {
  /** One of our ICE candidates (null: no more). */
  candidate(candidate: IceCandidateJson | null): void;
  /** The remote stream, again for each new track. */
  remote(stream: MediaStream | null): void;
  connectionState(): void;
  iceState(): void;
}

export function rtcConfig(iceServers: RTCIceServer[], policy: RTCIceTransportPolicy | undefined): RTCConfiguration {
  const config: RTCConfiguration = { iceServers };
  if (policy) config.iceTransportPolicy = policy;
  return config;
}

export class PeerLink {
  pc: RTCPeerConnection | null = null;
  private remote: MediaStream | null = null;

  /** Takes `pc` as the call's connection and hooks its events to `on` (ignored once `closed()`). */
  attach(pc: RTCPeerConnection, closed: () => boolean, on: PeerHandlers): void {
    this.pc = pc;
    pc.onicecandidate = (e) => {
      if (closed()) return;
      on.candidate(e.candidate ? (e.candidate.toJSON() as IceCandidateJson) : null);
    };
    pc.ontrack = (e) => {
      if (closed()) return;
      let remote = e.streams[0] ?? this.remote;
      if (!remote && typeof MediaStream !== 'undefined') remote = new MediaStream();
      if (remote && !remote.getTracks().includes(e.track)) remote.addTrack(e.track);
      this.remote = remote ?? null;
      on.remote(this.remote);
    };
    pc.onconnectionstatechange = () => on.connectionState();
    pc.oniceconnectionstatechange = () => on.iceState();
  }

  /** Sends the local tracks; a video call from a device without a camera still receives video. */
  addLocal(local: MediaStream, media: CallMedia): void {
    const pc = this.pc;
    if (!pc) return;
    for (const track of local.getTracks()) pc.addTrack(track, local);
    if (media === 'video' && local.getVideoTracks().length === 0) pc.addTransceiver('video', { direction: 'recvonly' });
  }

  close(): void {
    const pc = this.pc;
    this.pc = null;
    this.remote = null;
    if (!pc) return;
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
}
