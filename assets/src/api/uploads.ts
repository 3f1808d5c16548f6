/**
 * `POST /api/v1/uploads` over XMLHttpRequest: fetch cannot report how much of a request
 * body has gone out, and a progress bar per file needs exactly that.
 *
 * Invariants:
 * - One upload is one multipart form with a single field `file`, sent with the Bearer
 *   token of the moment; a 401 refreshes once (the HTTP client's shared refresh) and sends
 *   again, so an expired token never fails an upload.
 * - Every failure rejects with an ApiError: the server's problem `code` (payload_too_large,
 *   image_too_large, quota_exceeded, unsupported_media_type, invalid_image, …),
 *   `network_error`, or `cancelled` after `abort()`.
 */
import { ApiError } from './errors';
import type { HttpClient } from './http';
import type { Attachment, Problem } from './types';

/** `media.max_upload_bytes` of a default server: checked here too, so a huge file fails at once. */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
/** The types the server keeps (it sniffs the bytes; this only filters the picker and drops). */
export const ACCEPTED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;

export interface UploadHandle {
  promise: Promise<Attachment>;
  /** Stops the upload; the promise rejects with code `cancelled`. */
  abort(): void;
}

export interface UploadOptions {
  /** Bytes of the request body sent so far, of `total`. */
  onProgress?(loaded: number, total: number): void;
}

/** The part of XMLHttpRequest an upload uses (a test passes a fake). */
export type UploadXhr = Pick<
  XMLHttpRequest,
  'open' | 'send' | 'abort' | 'setRequestHeader' | 'getResponseHeader' | 'status' | 'responseText'
> & {
  upload: Pick<XMLHttpRequestUpload, 'addEventListener'>;
  addEventListener: XMLHttpRequest['addEventListener'];
};

export function createUploads(http: HttpClient, makeXhr: () => UploadXhr = () => new XMLHttpRequest()) {
  function upload(file: Blob, name: string, options: UploadOptions = {}): UploadHandle {
    let current: UploadXhr | null = null;
    let cancelled = false;

    const once = (token: string | null) =>
      new Promise<{ status: number; text: string; type: string }>((resolve, reject) => {
        const xhr = makeXhr();
        current = xhr;
        xhr.open('POST', `${http.baseUrl}/uploads`);
        xhr.setRequestHeader('Accept', 'application/json');
        if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.upload.addEventListener('progress', (e: ProgressEvent) => {
          if (e.lengthComputable) options.onProgress?.(e.loaded, e.total);
        });
        xhr.addEventListener('load', () =>
          resolve({ status: xhr.status, text: xhr.responseText, type: xhr.getResponseHeader('content-type') ?? '' }),
        );
        xhr.addEventListener('error', () => reject(new ApiError(0, 'network_error')));
        xhr.addEventListener('abort', () => reject(new ApiError(0, 'cancelled')));
        const form = new FormData();
        form.append('file', file, name);
        xhr.send(form);
      });

    const run = async (): Promise<Attachment> => {
      const tokenUsed = http.accessToken();
      let res = await once(tokenUsed);
      if (res.status === 401 && !cancelled) {
        const now = http.accessToken();
        const token = now && now !== tokenUsed ? now : (await http.refresh()).access_token;
        if (cancelled) throw new ApiError(0, 'cancelled');
        res = await once(token);
      }
      if (res.status >= 200 && res.status < 300) return JSON.parse(res.text) as Attachment;
      throw uploadError(res.status, res.text, res.type);
    };

    return {
      promise: run(),
      abort() {
        cancelled = true;
        current?.abort();
      },
    };
  }

  return { upload };
}

/** An ApiError from a failed upload's answer, reading problem JSON when there is one. */
export function uploadError(status: number, text: string, type: string): ApiError {
  let problem: Problem | undefined;
  if (type.includes('json')) {
    try {
      const body: unknown = JSON.parse(text);
      if (body && typeof body === 'object') problem = body as Problem;
    } catch {
      // The status alone still names the failure.
    }
  }
  const code = typeof problem?.code === 'string' && problem.code ? problem.code : statusCode(status);
  return new ApiError(status, code, problem);
}

function statusCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  return `http_${status}`;
}

/** What to tell a person about an upload that failed, by error code. */
export function uploadErrorText(code: string): string {
  switch (code) {
    case 'payload_too_large':
      return `Too large — images can be up to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`;
    case 'image_too_large':
      return 'Too many pixels — try a smaller image.';
    case 'quota_exceeded':
      return 'Your storage is full — delete some images first.';
    case 'unsupported_media_type':
      return 'Not a supported image — use JPEG, PNG, WebP or GIF.';
    case 'invalid_image':
      return 'The image is damaged or incomplete.';
    case 'network_error':
      return 'Could not reach the server.';
    case 'rate_limited':
      return 'Too many uploads at once — try again in a moment.';
    case 'too_many':
      return 'At most 10 images per message.';
    default:
      return 'The upload failed.';
  }
}
