/**
 * Remote tracks: which recvonly transceiver (slot) carries whose microphone, camera or
 * screen (`slots` of `room.answer` / `room.slots`), and one MediaStream per remote track
 * for the <video>/<audio> elements. A slot's receiver keeps its track when the server gives
 * the slot to someone else, so a stream is made anew whenever a key (user + source) gets a
 * different track, and kept while it has the same one (a <video> keeps playing).
 */
import type { RoomSlot, RoomSource } from '../../gateway/protocol';

export interface RemoteMedia {
  /** `${userId}:${source}` */
  key: string;
  userId: string;
  source: RoomSource;
  mid: string;
  track: MediaStreamTrack;
  stream: MediaStream;
}

/** The part of a transceiver the mapping reads. */
export interface SlotTransceiver {
  readonly mid: string | null;
  readonly direction: RTCRtpTransceiverDirection;
  readonly receiver: { readonly track: MediaStreamTrack };
}

export const mediaKey = (userId: string, source: RoomSource) => `${userId}:${source}`;

const kindOf = (source: RoomSource) => (source === 'microphone' ? 'audio' : 'video');

export interface AssignedTrack {
  userId: string;
  source: RoomSource;
  mid: string;
  track: MediaStreamTrack;
}

/**
 * The slots the client can use: each names a recvonly transceiver of ours of the right kind.
 * A (user, source) named twice keeps the first. Keyed by mediaKey.
 */
export function assignSlots(slots: readonly RoomSlot[], transceivers: readonly SlotTransceiver[]): Map<string, AssignedTrack> {
  const byMid = new Map<string, SlotTransceiver>();
  for (const t of transceivers) if (t.mid !== null && t.direction === 'recvonly') byMid.set(t.mid, t);
  const out = new Map<string, AssignedTrack>();
  for (const s of slots) {
    const t = byMid.get(s.mid);
    if (!t || t.receiver.track.kind !== kindOf(s.source)) continue;
    const key = mediaKey(s.user_id, s.source);
    if (!out.has(key)) out.set(key, { userId: s.user_id, source: s.source, mid: s.mid, track: t.receiver.track });
  }
  return out;
}

/** How many recvonly transceivers of each kind there are (stopped ones do not count). */
export function slotCounts(transceivers: readonly (SlotTransceiver & { readonly stopped?: boolean; readonly currentDirection?: RTCRtpTransceiverDirection | null })[]): { audio: number; video: number } {
  let audio = 0;
  let video = 0;
  for (const t of transceivers) {
    if (t.direction !== 'recvonly' || t.stopped || t.currentDirection === 'stopped') continue;
    if (t.receiver.track.kind === 'audio') audio++;
    else video++;
  }
  return { audio, video };
}

/** The remote streams, kept across slot changes where the track is the same. */
export class RemoteStreams {
  private current = new Map<string, RemoteMedia>();
  private slots: readonly RoomSlot[] = [];

  constructor(private readonly createStream: (tracks: MediaStreamTrack[]) => MediaStream) {}

  /** The latest slot list from the server. */
  get lastSlots(): readonly RoomSlot[] {
    return this.slots;
  }

  /** Applies a slot list (or the last one again, when transceivers changed). Returns whether anything changed. */
  update(transceivers: readonly SlotTransceiver[], slots: readonly RoomSlot[] = this.slots): boolean {
    this.slots = slots;
    const assigned = assignSlots(slots, transceivers);
    const next = new Map<string, RemoteMedia>();
    let changed = assigned.size !== this.current.size;
    for (const [key, a] of assigned) {
      const had = this.current.get(key);
      if (had && had.track === a.track) {
        next.set(key, had.mid === a.mid ? had : { ...had, mid: a.mid });
        continue;
      }
      changed = true;
      next.set(key, { key, ...a, stream: this.createStream([a.track]) });
    }
    this.current = next;
    return changed;
  }

  list(): RemoteMedia[] {
    return [...this.current.values()];
  }

  clear(): void {
    this.current = new Map();
    this.slots = [];
  }
}
