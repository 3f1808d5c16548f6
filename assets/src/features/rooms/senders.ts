/**
 * Our send tracks on the room's peer connection: one `sendonly` transceiver each for the
 * microphone, the camera (simulcast: rid h / m / l at full, half and quarter size, the top
 * one capped at the room's `max_video_kbps`) and the screen. `tracks()` names them by mid
 * for `room.offer`; a stopped screen share is left out (its transceiver stopped).
 */
import type { RoomSource, RoomTrack } from '../../gateway/protocol';

/** Used when the server did not say (`max_video_kbps` missing). */
export const DEFAULT_MAX_VIDEO_KBPS = 1_500;

/** The camera's simulcast layers: h (full size, capped at maxKbps), m (½), l (¼). */
export function simulcastEncodings(maxKbps: number | null): RTCRtpEncodingParameters[] {
  const top = Math.max(100, Math.round(maxKbps && maxKbps > 0 ? maxKbps : DEFAULT_MAX_VIDEO_KBPS)) * 1000;
  return [
    { rid: 'h', active: true, maxBitrate: top, scaleResolutionDownBy: 1 },
    { rid: 'm', active: true, maxBitrate: Math.round(top * 0.3), scaleResolutionDownBy: 2 },
    { rid: 'l', active: true, maxBitrate: Math.max(50_000, Math.round(top * 0.1)), scaleResolutionDownBy: 4 },
  ];
}

type Sendable = Exclude<RoomSource, never>;

export class Senders {
  private readonly transceivers: Partial<Record<Sendable, RTCRtpTransceiver>> = {};

  /** The transceiver that sends `source`, if any. */
  get(source: Sendable): RTCRtpTransceiver | undefined {
    return this.transceivers[source];
  }

  /** Adds a sendonly transceiver for `track` (simulcast for the camera). */
  add(pc: RTCPeerConnection, source: Sendable, track: MediaStreamTrack, stream: MediaStream, maxKbps: number | null): RTCRtpTransceiver {
    const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams: [stream] };
    if (source === 'camera') init.sendEncodings = simulcastEncodings(maxKbps);
    const t = pc.addTransceiver(track, init);
    this.transceivers[source] = t;
    return t;
  }

  /** Swaps the track a transceiver sends (another camera or microphone), with no renegotiation. */
  async replace(source: Sendable, track: MediaStreamTrack | null): Promise<boolean> {
    const t = this.transceivers[source];
    if (!t) return false;
    await t.sender.replaceTrack(track);
    return true;
  }

  /** Stops sending `source`: its transceiver is stopped and left out of the next offer's tracks. */
  remove(source: Sendable): boolean {
    const t = this.transceivers[source];
    if (!t) return false;
    delete this.transceivers[source];
    try {
      t.stop();
    } catch {
      // An older browser without stop(): at least send nothing.
      t.direction = 'inactive';
      void t.sender.replaceTrack(null).catch(() => undefined);
    }
    return true;
  }

  /** Our send tracks by mid, for `room.offer` (known once the offer is the local description). */
  tracks(): RoomTrack[] {
    const out: RoomTrack[] = [];
    for (const source of ['microphone', 'camera', 'screen'] as const) {
      const t = this.transceivers[source];
      if (t?.mid != null) out.push({ mid: t.mid, source });
    }
    return out;
  }

  /** Forgets the transceivers (their peer connection is gone). */
  reset(): void {
    for (const k of Object.keys(this.transceivers) as Sendable[]) delete this.transceivers[k];
  }
}
