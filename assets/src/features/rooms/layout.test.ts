import { describe, expect, it } from 'vitest';
import { BOB, CAROL, ME } from '../../test/fixtures';
import type { Participant } from '../../stores';
import { gridShape, isPortraitPhone, tileColumnStart } from './layout';
import { buildTiles } from './tiles';
import type { RemoteMedia } from './slots';

describe('grid layout maths', () => {
  it('desktop: balanced rows and columns from 1 to 16 tiles', () => {
    const shapes = Array.from({ length: 16 }, (_, i) => gridShape(i + 1, 1280, 640));
    expect(shapes.map((s) => `${s.cols}x${s.rows}`)).toEqual([
      '1x1', '2x1', '2x2', '2x2', '3x2', '3x2', '3x3', '3x3', '3x3', '4x3', '4x3', '4x3', '4x4', '4x4', '4x4', '4x4',
    ]);
    for (const [i, s] of shapes.entries()) {
      expect(s.cols * s.rows).toBeGreaterThanOrEqual(i + 1);
      expect((s.cols * (s.rows - 1))).toBeLessThan(i + 1); // no empty row
    }
  });

  it('a wide, low window prefers a row', () => {
    expect(gridShape(3, 1800, 400)).toEqual({ cols: 3, rows: 1 });
    expect(gridShape(4, 900, 1000)).toEqual({ cols: 2, rows: 2 });
  });

  it('phone held upright: stacked for one or two, then two columns', () => {
    expect(isPortraitPhone(375, 700)).toBe(true);
    expect(isPortraitPhone(812, 375)).toBe(false);
    expect(gridShape(1, 375, 700)).toEqual({ cols: 1, rows: 1 });
    expect(gridShape(2, 375, 700)).toEqual({ cols: 1, rows: 2 });
    expect(gridShape(3, 375, 700)).toEqual({ cols: 2, rows: 2 });
    expect(gridShape(16, 375, 700)).toEqual({ cols: 2, rows: 8 });
  });

  it('centres an incomplete last row', () => {
    // 5 in 3 columns: the last row's two tiles start half a tile in (column 2 of 6).
    expect([0, 1, 2, 3, 4].map((i) => tileColumnStart(i, 5, 3))).toEqual([undefined, undefined, undefined, 2, undefined]);
    expect(tileColumnStart(6, 7, 3)).toBe(3);
    expect(tileColumnStart(3, 4, 2)).toBeUndefined();
  });
});

const person = (userId: string, o: Partial<Participant> = {}): Participant => ({
  userId,
  joinedAt: 't',
  audioMuted: false,
  videoMuted: false,
  screenSharing: false,
  ...o,
});
const stream = (id: string) => ({ id }) as unknown as MediaStream;
const remote = (userId: string, source: RemoteMedia['source']): RemoteMedia => ({
  key: `${userId}:${source}`,
  userId,
  source,
  mid: '1',
  track: {} as MediaStreamTrack,
  stream: stream(`${userId}-${source}`),
});
const session = { muted: false, cameraOff: false, noCamera: false, screenSharing: false, speakers: [], activeSpeaker: null };

describe('tiles', () => {
  it('one camera tile per participant with its stream; badges from the room state; ours from the session', () => {
    const { spotlight, tiles } = buildTiles(
      [person(BOB.id, { audioMuted: true }), person(ME.id), person(CAROL.id, { videoMuted: true })],
      ME.id,
      { ...session, muted: true },
      { local: stream('mine'), screen: null, remote: [remote(BOB.id, 'camera'), remote(CAROL.id, 'camera')] },
    );
    expect(spotlight).toBeNull();
    expect(tiles.map((t) => [t.userId, t.isMe, (t.stream as unknown as { id: string } | null)?.id ?? null, t.audioMuted, t.videoOff])).toEqual([
      [BOB.id, false, 'bob-camera', true, false],
      [ME.id, true, 'mine', true, false],
      [CAROL.id, false, null, false, true],
    ]);
  });

  it('speaking and the active-speaker ring (never for the muted, nor when alone)', () => {
    const { tiles } = buildTiles([person(BOB.id), person(CAROL.id, { audioMuted: true }), person(ME.id)], ME.id, {
      ...session,
      speakers: [{ user_id: BOB.id, level: 0.6 }, { user_id: CAROL.id, level: 0.4 }, { user_id: ME.id, level: 0.01 }],
      activeSpeaker: BOB.id,
    }, { local: null, screen: null, remote: [] });
    expect(tiles.map((t) => [t.userId, t.speaking, t.active])).toEqual([
      [BOB.id, true, true],
      [CAROL.id, false, false],
      [ME.id, false, false],
    ]);
    const alone = buildTiles([person(ME.id)], ME.id, { ...session, activeSpeaker: ME.id, speakers: [{ user_id: ME.id, level: 0.5 }] }, { local: null, screen: null, remote: [] });
    expect(alone.tiles[0]!.active).toBe(false);
  });

  it('a screen share is the spotlight (someone else’s before ours); the rest go to the strip', () => {
    const { spotlight, tiles } = buildTiles(
      [person(BOB.id, { screenSharing: true }), person(ME.id)],
      ME.id,
      { ...session, screenSharing: true },
      { local: null, screen: stream('my-screen'), remote: [remote(BOB.id, 'screen')] },
    );
    expect(spotlight).toMatchObject({ userId: BOB.id, source: 'screen' });
    expect(tiles.map((t) => t.key)).toEqual([`${BOB.id}:camera`, `${ME.id}:camera`, `${ME.id}:screen`]);
  });
});
