import { describe, expect, it } from 'vitest';
import type { RoomSlot } from '../../gateway/protocol';
import { assignSlots, RemoteStreams, slotCounts, type SlotTransceiver } from './slots';
import { simulcastEncodings, DEFAULT_MAX_VIDEO_KBPS } from './senders';
import { viewTiles } from './viewReport';

const track = (kind: 'audio' | 'video', id: string) => ({ kind, id }) as unknown as MediaStreamTrack;
const tx = (mid: string | null, kind: 'audio' | 'video', direction: RTCRtpTransceiverDirection = 'recvonly'): SlotTransceiver => ({
  mid,
  direction,
  receiver: { track: track(kind, `t${mid}`) },
});

describe('slot mapping', () => {
  const transceivers = [tx('0', 'audio', 'sendonly'), tx('1', 'video', 'sendonly'), tx('2', 'audio'), tx('3', 'video'), tx('4', 'video'), tx(null, 'audio')];

  it('maps each slot to the receiver track of its recvonly transceiver, by participant and source', () => {
    const slots: RoomSlot[] = [
      { mid: '2', user_id: 'bob', source: 'microphone' },
      { mid: '3', user_id: 'bob', source: 'camera' },
      { mid: '4', user_id: 'carol', source: 'screen' },
    ];
    const got = assignSlots(slots, transceivers);
    expect([...got.keys()]).toEqual(['bob:microphone', 'bob:camera', 'carol:screen']);
    expect(got.get('bob:camera')?.track).toBe(transceivers[3]!.receiver.track);
  });

  it('drops slots it cannot use: unknown mid, a send transceiver, the wrong kind, a duplicate', () => {
    const got = assignSlots(
      [
        { mid: '9', user_id: 'bob', source: 'camera' },
        { mid: '1', user_id: 'bob', source: 'camera' },
        { mid: '2', user_id: 'bob', source: 'camera' },
        { mid: '3', user_id: 'carol', source: 'camera' },
        { mid: '4', user_id: 'carol', source: 'camera' },
      ],
      transceivers,
    );
    expect([...got.values()].map((a) => `${a.userId}:${a.mid}`)).toEqual(['carol:3']);
  });

  it('counts the recvonly slots of each kind', () => {
    expect(slotCounts(transceivers)).toEqual({ audio: 2, video: 2 });
    expect(slotCounts([...transceivers, { ...tx('5', 'video'), stopped: true } as SlotTransceiver])).toEqual({ audio: 2, video: 2 });
  });

  it('keeps a stream while its track is the same, and makes a new one when the slot changes hands', () => {
    let made = 0;
    const remote = new RemoteStreams((tracks) => ({ id: `s${++made}`, tracks }) as unknown as MediaStream);
    expect(remote.update(transceivers, [{ mid: '3', user_id: 'bob', source: 'camera' }])).toBe(true);
    const bob = remote.list()[0]!;
    expect(remote.update(transceivers, [{ mid: '3', user_id: 'bob', source: 'camera' }])).toBe(false);
    expect(remote.list()[0]).toBe(bob);
    // Bob's camera moves to another slot: same key, another track → a new stream.
    remote.update(transceivers, [{ mid: '4', user_id: 'bob', source: 'camera' }]);
    expect(remote.list()[0]!.stream).not.toBe(bob.stream);
    // Nobody left: nothing to show.
    expect(remote.update(transceivers, [])).toBe(true);
    expect(remote.list()).toEqual([]);
  });
});

describe('simulcast layers', () => {
  it('h at full size capped at max_video_kbps, m at half, l at a quarter', () => {
    const [h, m, l] = simulcastEncodings(2000);
    expect(h).toMatchObject({ rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 2_000_000 });
    expect(m).toMatchObject({ rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 600_000 });
    expect(l).toMatchObject({ rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 200_000 });
    expect(simulcastEncodings(null)[0]!.maxBitrate).toBe(DEFAULT_MAX_VIDEO_KBPS * 1000);
  });
});

describe('room.view tiles', () => {
  it('every remote video, with its size on screen or 0×0 when it is not shown; never the audio', () => {
    const media = [
      { key: 'bob:microphone', userId: 'bob', source: 'microphone' as const },
      { key: 'bob:camera', userId: 'bob', source: 'camera' as const },
      { key: 'carol:screen', userId: 'carol', source: 'screen' as const },
    ].map((m) => ({ ...m, mid: '0', track: track('video', 'x'), stream: {} as MediaStream }));
    expect(viewTiles(media, new Map([['bob:camera', { width: 320.6, height: 180.2 }]]))).toEqual([
      { user_id: 'bob', source: 'camera', width: 321, height: 180 },
      { user_id: 'carol', source: 'screen', width: 0, height: 0 },
    ]);
  });
});
