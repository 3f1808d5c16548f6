/**
 * The upload queue: what the composer calls to attach images, and what ties an upload's
 * life to the message that carries it.
 *
 * - `add` puts each file in the conversation's tray with a local preview (object URL) and
 *   starts its upload at once, so most are done by the time the person presses Send. A
 *   file that cannot succeed (not an image, over 25 MiB, past 10 per message) is shown as
 *   failed straight away, without a request.
 * - `send` turns the tray into one pending message (gateway.send) whose images show from
 *   their local copies; the uploads that are still running tell the gateway when they end
 *   (`attachmentUploaded` / `attachmentFailed`), and the gateway sends `message.send` once
 *   every image has its id.
 * - `remove` cancels a running upload (XHR abort) and drops it from the tray.
 * - Once the pending message is gone (stored: the echo replaced it; or discarded), its
 *   uploads are forgotten and their object URLs revoked; a discarded message's uploads
 *   still running are cancelled.
 */
import type { ReplyView, UploadHandle, UploadOptions } from '../../api';
import { ACCEPTED_IMAGE_TYPES, MAX_UPLOAD_BYTES, uploadErrorText } from '../../api';
import { isApiError } from '../../api/errors';
import { MESSAGE_MAX_ATTACHMENTS } from '../../gateway/protocol';
import { messagesSelectors, uploadsSelectors, type AppStore, type ChatAttachment, type Upload } from '../../stores';
import type { ChatGateway } from '../services';

export interface UploadQueueDeps {
  store: AppStore;
  upload(file: Blob, name: string, options: UploadOptions): UploadHandle;
  gateway: Pick<ChatGateway, 'send' | 'attachmentUploaded' | 'attachmentFailed'>;
  /** Tells the person something went wrong (a toast). */
  notify(title: string, description: string): void;
  objectUrls?: { create(file: Blob): string; revoke(url: string): void };
  /** The image's size, read locally (0 × 0 when it cannot be read). */
  measure?(file: Blob, url: string): Promise<{ width: number; height: number }>;
  newId?(): string;
}

export class UploadQueue {
  private readonly deps: UploadQueueDeps;
  private readonly running = new Map<string, UploadHandle>();
  private readonly objectUrls: NonNullable<UploadQueueDeps['objectUrls']>;
  private readonly measure: NonNullable<UploadQueueDeps['measure']>;
  private readonly newId: () => string;

  constructor(deps: UploadQueueDeps) {
    this.deps = deps;
    this.objectUrls = deps.objectUrls ?? { create: (f) => URL.createObjectURL(f), revoke: (u) => URL.revokeObjectURL(u) };
    this.measure = deps.measure ?? measureImage;
    this.newId = deps.newId ?? (() => crypto.randomUUID());
    deps.store.subscribe((s, prev) => {
      if (s.messages !== prev.messages || s.uploads.sent !== prev.uploads.sent) this.sweep();
    });
  }

  private get state() {
    return this.deps.store.getState();
  }

  /** Adds files to the conversation's tray and starts uploading them; resolves once they are in the tray. */
  async add(conversationId: string, files: readonly File[]): Promise<void> {
    if (!files.length) return;
    let room = MESSAGE_MAX_ATTACHMENTS - uploadsSelectors.tray(this.state, conversationId).filter((u) => u.status !== 'failed').length;
    const accepted: File[] = [];
    let refused = 0;
    for (const file of files) {
      if (room <= 0) refused++;
      else {
        accepted.push(file);
        room--;
      }
    }
    if (refused) this.deps.notify(`${refused} ${refused === 1 ? 'image was' : 'images were'} not added`, uploadErrorText('too_many'));
    await Promise.all(accepted.map((file) => this.start(conversationId, file)));
  }

  private async start(conversationId: string, file: File): Promise<void> {
    const id = this.newId();
    const localUrl = this.objectUrls.create(file);
    const early = precheck(file);
    const size = early ? { width: 0, height: 0 } : await this.measure(file, localUrl).catch(() => ({ width: 0, height: 0 }));
    const upload: Upload = {
      id,
      conversationId,
      name: file.name || 'image',
      bytes: file.size,
      mime: file.type,
      localUrl,
      width: size.width,
      height: size.height,
      status: 'uploading',
      loaded: 0,
      total: file.size,
      error: null,
      attachment: null,
      clientId: null,
    };
    this.state.uploadsAdded(upload);
    if (early) return this.failed(id, early);
    void this.run(id, file, upload.name);
  }

  private async run(id: string, file: File, name: string): Promise<void> {
    const handle = this.deps.upload(file, name, {
      onProgress: (loaded, total) => this.state.uploadsProgressed(id, loaded, total),
    });
    this.running.set(id, handle);
    try {
      const attachment = await handle.promise;
      this.running.delete(id);
      this.state.uploadsFinished(id, attachment);
      const u = uploadsSelectors.byId(this.state, id);
      if (u?.clientId) this.deps.gateway.attachmentUploaded(u.conversationId, u.clientId, id, attachment.id);
    } catch (err) {
      this.running.delete(id);
      this.failed(id, isApiError(err) ? err.code : 'network_error');
    }
  }

  private failed(id: string, code: string): void {
    const u = uploadsSelectors.byId(this.state, id);
    if (!u) return; // removed meanwhile
    this.state.uploadsFailed(id, code);
    if (code !== 'cancelled') this.deps.notify(`Could not upload ${u.name}`, uploadErrorText(code));
    if (u.clientId) this.deps.gateway.attachmentFailed(u.conversationId, u.clientId, code);
  }

  /** Cancels the upload if it is running and drops it from the tray. */
  remove(id: string): void {
    const u = uploadsSelectors.byId(this.state, id);
    this.running.get(id)?.abort();
    this.running.delete(id);
    this.state.uploadsRemoved(id);
    if (u) this.objectUrls.revoke(u.localUrl);
  }

  /**
   * Sends `body` with the tray's images (those that did not fail) as one message (a reply
   * to `replyTo` when given), at once as a pending bubble. Returns its client_id, or null when there is nothing to send.
   */
  send(conversationId: string, body: string, replyTo: ReplyView | null = null): string | null {
    const going = uploadsSelectors.tray(this.state, conversationId).filter((u) => u.status !== 'failed');
    if (!going.length && !body.trim()) return null;
    const clientId = this.deps.gateway.send(conversationId, body, going.map(localAttachment), replyTo);
    if (going.length) this.state.uploadsSent(conversationId, clientId);
    return clientId;
  }

  /** Forgets the uploads of messages that are no longer pending (and cancels any still running). */
  private sweep(): void {
    const s = this.state;
    for (const u of Object.values(s.uploads.sent)) {
      if (u.clientId && messagesSelectors.pending(s, u.conversationId, u.clientId)) continue;
      this.remove(u.id);
    }
  }
}

/** The image of a pending bubble, from its upload: the local copy until the echo replaces it. */
export function localAttachment(u: Upload): ChatAttachment {
  const a = u.attachment;
  return {
    key: u.id,
    id: a?.id ?? null,
    mime: a?.mime ?? u.mime,
    width: a?.width || u.width,
    height: a?.height || u.height,
    blurhash: a?.blurhash ?? null,
    url: u.localUrl,
    preview: u.localUrl,
    thumbnail: u.localUrl,
  };
}

/** An error code for a file that cannot be uploaded, known before sending it. */
export function precheck(file: Pick<File, 'type' | 'size'>): string | null {
  if (file.type && !(ACCEPTED_IMAGE_TYPES as readonly string[]).includes(file.type)) return 'unsupported_media_type';
  if (file.size === 0) return 'invalid_image';
  if (file.size > MAX_UPLOAD_BYTES) return 'payload_too_large';
  return null;
}

/** Reads an image's size from its object URL; 0 × 0 when the browser cannot decode it. */
async function measureImage(_file: Blob, url: string): Promise<{ width: number; height: number }> {
  const img = new Image();
  img.src = url;
  await Promise.race([img.decode(), new Promise((_, fail) => setTimeout(fail, 3_000))]);
  return { width: img.naturalWidth, height: img.naturalHeight };
}
