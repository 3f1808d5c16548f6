/** The upload queue over a real store with fake uploads: tray, progress, send before or after the upload ends, errors, cancel, clean-up. */
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/errors';
import type { Attachment } from '../../api/types';
import { createAppStore, uploadsSelectors } from '../../stores';
import { message } from '../../test/fixtures';
import { precheck, UploadQueue } from './queue';

interface FakeUpload {
  name: string;
  progress(loaded: number, total: number): void;
  resolve(a: Attachment): void;
  reject(e: unknown): void;
  aborted: boolean;
}

const attachment = (id: string): Attachment => ({
  id,
  mime: 'image/png',
  bytes: 3,
  width: 640,
  height: 480,
  blurhash: null,
  url: `/m/${id}`,
  preview: { url: `/m/${id}/p`, width: 640, height: 480 },
  thumbnail: { url: `/m/${id}/t`, width: 400, height: 300 },
});

function setup() {
  const store = createAppStore({ draftStorage: () => null });
  store.getState().sessionAuthenticated({ user: { id: 'me', username: 'me', display_name: 'Me', is_admin: false, created_at: '' }, access_token: 't', token_type: 'Bearer', expires_in: 900 });
  store.getState().messagesPageLoaded('c1', 'latest', []);
  const uploads: FakeUpload[] = [];
  let n = 0;
  const sent: Array<{ clientId: string; body: string; keys: string[] }> = [];
  const gateway = {
    send: vi.fn((cid: string, body: string, attachments: { key: string }[] = []) => {
      const clientId = `msg-${sent.length + 1}`;
      store.getState().messagesQueued({ conversationId: cid, clientId, senderId: 'me', body, createdAt: '', attachments: attachments as never });
      sent.push({ clientId, body, keys: attachments.map((a) => a.key) });
      return clientId;
    }),
    attachmentUploaded: vi.fn(),
    attachmentFailed: vi.fn(),
  };
  const notify = vi.fn();
  const revoked: string[] = [];
  const queue = new UploadQueue({
    store,
    gateway,
    notify,
    newId: () => `u${++n}`,
    objectUrls: { create: () => `blob:${n}`, revoke: (u) => revoked.push(u) },
    measure: async () => ({ width: 640, height: 480 }),
    upload: (_file, name, options) => {
      let resolve!: (a: Attachment) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<Attachment>((ok, fail) => ((resolve = ok), (reject = fail)));
      const u: FakeUpload = { name, progress: (l, t) => options.onProgress?.(l, t), resolve, reject, aborted: false };
      uploads.push(u);
      return {
        promise,
        abort: () => {
          u.aborted = true;
          reject(new ApiError(0, 'cancelled'));
        },
      };
    },
  });
  const tray = () => uploadsSelectors.tray(store.getState(), 'c1');
  return { store, queue, uploads, gateway, notify, sent, revoked, tray };
}

const png = (name = 'a.png', size = 3) => new File([new Uint8Array(size)], name, { type: 'image/png' });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('UploadQueue', () => {
  it('adds to the tray at once with the local preview, reports progress, then done', async () => {
    const h = setup();
    await h.queue.add('c1', [png('a.png')]);
    expect(h.tray()).toEqual([expect.objectContaining({ id: 'u1', status: 'uploading', width: 640, localUrl: 'blob:1' })]);
    h.uploads[0]!.progress(2, 4);
    expect(uploadsSelectors.progress(h.store.getState(), 'u1')).toBe(0.5);
    h.uploads[0]!.resolve(attachment('x1'));
    await settle();
    expect(h.tray()[0]).toMatchObject({ status: 'done', attachment: { id: 'x1' } });
    expect(h.gateway.attachmentUploaded).not.toHaveBeenCalled(); // not sent yet
  });

  it('send before the upload ends: the bubble shows at once, the id follows when it is done', async () => {
    const h = setup();
    await h.queue.add('c1', [png('a.png'), png('b.png')]);
    h.uploads[1]!.resolve(attachment('x2'));
    await settle();
    expect(h.queue.send('c1', 'look')).toBe('msg-1');
    expect(h.sent).toEqual([{ clientId: 'msg-1', body: 'look', keys: ['u1', 'u2'] }]);
    const pending = h.store.getState().messages.threads.c1!.pending[0]!;
    expect(pending.attachments.map((a) => [a.key, a.id, a.url])).toEqual([
      ['u1', null, 'blob:1'],
      ['u2', 'x2', 'blob:2'],
    ]);
    expect(h.tray()).toEqual([]);
    h.uploads[0]!.resolve(attachment('x1'));
    await settle();
    expect(h.gateway.attachmentUploaded).toHaveBeenCalledWith('c1', 'msg-1', 'u1', 'x1');
  });

  it('a failed upload: inline error, a toast, and it stays behind when the rest is sent', async () => {
    const h = setup();
    await h.queue.add('c1', [png('big.png'), png('ok.png')]);
    h.uploads[0]!.reject(new ApiError(413, 'payload_too_large'));
    h.uploads[1]!.resolve(attachment('x2'));
    await settle();
    expect(h.tray()[0]).toMatchObject({ status: 'failed', error: 'payload_too_large' });
    expect(h.notify).toHaveBeenCalledWith('Could not upload big.png', expect.stringMatching(/25 MB/));
    h.queue.send('c1', '');
    expect(h.sent[0]!.keys).toEqual(['u2']);
    expect(h.tray().map((u) => u.id)).toEqual(['u1']);
  });

  it('an upload that fails after sending fails the message', async () => {
    const h = setup();
    await h.queue.add('c1', [png()]);
    h.queue.send('c1', 'x');
    h.uploads[0]!.reject(new ApiError(413, 'quota_exceeded'));
    await settle();
    expect(h.gateway.attachmentFailed).toHaveBeenCalledWith('c1', 'msg-1', 'quota_exceeded');
  });

  it('remove cancels a running upload without a toast and revokes its preview', async () => {
    const h = setup();
    await h.queue.add('c1', [png()]);
    h.queue.remove('u1');
    await settle();
    expect(h.uploads[0]!.aborted).toBe(true);
    expect(h.tray()).toEqual([]);
    expect(h.revoked).toEqual(['blob:1']);
    expect(h.notify).not.toHaveBeenCalled();
  });

  it('files that cannot succeed fail at once, without a request; past 10 they are not added', async () => {
    const h = setup();
    await h.queue.add('c1', [new File(['x'], 'a.svg', { type: 'image/svg+xml' })]);
    expect(h.tray()[0]).toMatchObject({ status: 'failed', error: 'unsupported_media_type' });
    expect(h.uploads).toHaveLength(0);
    await h.queue.add('c1', Array.from({ length: 12 }, (_, i) => png(`${i}.png`)));
    expect(h.tray().filter((u) => u.status === 'uploading')).toHaveLength(10);
    expect(h.notify).toHaveBeenLastCalledWith('2 images were not added', 'At most 10 images per message.');
  });

  it('precheck: type, emptiness and size', () => {
    expect(precheck({ type: 'image/jpeg', size: 10 })).toBeNull();
    expect(precheck({ type: '', size: 10 })).toBeNull(); // the server sniffs it
    expect(precheck({ type: 'application/pdf', size: 10 })).toBe('unsupported_media_type');
    expect(precheck({ type: 'image/png', size: 0 })).toBe('invalid_image');
    expect(precheck({ type: 'image/png', size: 26 * 1024 * 1024 })).toBe('payload_too_large');
  });

  it('once the echo replaces the bubble its uploads are forgotten and their previews revoked', async () => {
    const h = setup();
    await h.queue.add('c1', [png()]);
    h.uploads[0]!.resolve(attachment('x1'));
    await settle();
    h.queue.send('c1', 'x');
    expect(uploadsSelectors.ofMessage(h.store.getState(), 'msg-1')).toHaveLength(1);
    h.store.getState().messagesReceived(message(1, { sender_id: 'me', client_id: 'msg-1', attachments: [attachment('x1')] }));
    expect(uploadsSelectors.ofMessage(h.store.getState(), 'msg-1')).toEqual([]);
    expect(h.revoked).toEqual(['blob:1']);
  });

  it('discarding a message cancels its uploads still running', async () => {
    const h = setup();
    await h.queue.add('c1', [png()]);
    h.queue.send('c1', 'x');
    h.store.getState().messagesFailed('c1', 'msg-1', 'timeout');
    h.store.getState().messagesDiscarded('c1', 'msg-1');
    expect(h.uploads[0]!.aborted).toBe(true);
  });
});
