import { describe, expect, it } from 'vitest';
import { BOB } from '../../test/fixtures';
import { PERMISSION_DENIED } from './localMedia';
import { FakeStream, FakeTrack, flush, incoming, ofType, outgoingConnecting, setup, useCallTestClock } from './testing';

useCallTestClock();

describe('call local media: camera and microphone', () => {
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
});
