/** The XHR upload transport with a fake XMLHttpRequest: the form, progress, a 401 refresh, error codes, cancel. */
import { describe, expect, it, vi } from 'vitest';
import type { HttpClient } from './http';
import type { AuthResponse } from './types';
import { createUploads, uploadError, uploadErrorText, type UploadXhr } from './uploads';

/** An XMLHttpRequest stand-in the test drives: progress, load with a status, error, abort. */
class FakeXhr implements UploadXhr {
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown = null;
  status = 0;
  responseText = '';
  private type = '';
  private listeners: Record<string, Array<(e: unknown) => void>> = {};
  private uploadListeners: Record<string, Array<(e: unknown) => void>> = {};
  upload = { addEventListener: (t: string, f: (e: unknown) => void) => void (this.uploadListeners[t] ??= []).push(f) };
  addEventListener = ((t: string, f: (e: unknown) => void) => void (this.listeners[t] ??= []).push(f)) as UploadXhr['addEventListener'];
  open(method: string, url: string | URL) {
    this.method = method;
    this.url = String(url);
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader(k: string) {
    return k.toLowerCase() === 'content-type' ? this.type : null;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.fire('abort');
  }
  progress(loaded: number, total: number) {
    for (const f of this.uploadListeners.progress ?? []) f({ lengthComputable: true, loaded, total });
  }
  answer(status: number, body: unknown, type = 'application/json') {
    this.status = status;
    this.type = type;
    this.responseText = JSON.stringify(body);
    this.fire('load');
  }
  fire(t: string) {
    for (const f of this.listeners[t] ?? []) f({});
  }
}

function setup(token = 'tok-1') {
  const xhrs: FakeXhr[] = [];
  let current: string | null = token;
  const http = {
    baseUrl: '/api/v1',
    accessToken: () => current,
    refresh: vi.fn(async () => {
      current = 'tok-2';
      return { access_token: 'tok-2' } as AuthResponse;
    }),
  } as unknown as HttpClient;
  const uploads = createUploads(http, () => {
    const x = new FakeXhr();
    xhrs.push(x);
    return x;
  });
  return { xhrs, http, uploads };
}

const attachment = { id: 'up-1', mime: 'image/png', bytes: 3, width: 1, height: 1, blurhash: null, url: '/u', preview: { url: '/p', width: 1, height: 1 }, thumbnail: { url: '/t', width: 1, height: 1 } };
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('uploads over XHR', () => {
  it('posts one multipart field "file" with the token, reports progress, resolves the attachment', async () => {
    const { xhrs, uploads } = setup();
    const progress: Array<[number, number]> = [];
    const h = uploads.upload(new Blob(['abc'], { type: 'image/png' }), 'a.png', { onProgress: (l, t) => progress.push([l, t]) });
    await flush();
    const x = xhrs[0]!;
    expect([x.method, x.url, x.headers.Authorization]).toEqual(['POST', '/api/v1/uploads', 'Bearer tok-1']);
    expect(x.body).toBeInstanceOf(FormData);
    expect(((x.body as FormData).get('file') as File).name).toBe('a.png');
    x.progress(1, 3);
    x.progress(3, 3);
    x.answer(201, attachment);
    await expect(h.promise).resolves.toEqual(attachment);
    expect(progress).toEqual([
      [1, 3],
      [3, 3],
    ]);
  });

  it('a 401 refreshes once and sends again with the new token', async () => {
    const { xhrs, http, uploads } = setup();
    const h = uploads.upload(new Blob(['abc']), 'a.png');
    await flush();
    xhrs[0]!.answer(401, { code: 'unauthorized' }, 'application/problem+json');
    await vi.waitFor(() => expect(xhrs).toHaveLength(2));
    expect(http.refresh).toHaveBeenCalledTimes(1);
    expect(xhrs[1]!.headers.Authorization).toBe('Bearer tok-2');
    xhrs[1]!.answer(201, attachment);
    await expect(h.promise).resolves.toMatchObject({ id: 'up-1' });
  });

  it.each([
    [413, 'payload_too_large'],
    [413, 'image_too_large'],
    [413, 'quota_exceeded'],
    [415, 'unsupported_media_type'],
    [400, 'invalid_image'],
  ])('a %i problem rejects with its code (%s)', async (status, code) => {
    const { xhrs, uploads } = setup();
    const h = uploads.upload(new Blob(['abc']), 'a.png');
    await flush();
    xhrs[0]!.answer(status, { status, code, detail: 'no' }, 'application/problem+json');
    await expect(h.promise).rejects.toMatchObject({ status, code });
  });

  it('abort rejects with "cancelled"; a network failure with "network_error"', async () => {
    const { xhrs, uploads } = setup();
    const a = uploads.upload(new Blob(['abc']), 'a.png');
    const b = uploads.upload(new Blob(['abc']), 'b.png');
    await flush();
    a.abort();
    xhrs[1]!.fire('error');
    await expect(a.promise).rejects.toMatchObject({ code: 'cancelled' });
    await expect(b.promise).rejects.toMatchObject({ code: 'network_error', status: 0 });
  });
});

describe('upload errors', () => {
  it('without problem JSON the status names the code', () => {
    expect(uploadError(413, 'Payload Too Large', 'text/plain').code).toBe('payload_too_large');
    expect(uploadError(415, '', '').code).toBe('unsupported_media_type');
    expect(uploadError(502, '', '').code).toBe('http_502');
  });

  it('each code has a sentence, and unknown ones a generic one', () => {
    expect(uploadErrorText('payload_too_large')).toMatch(/25 MB/);
    expect(uploadErrorText('quota_exceeded')).toMatch(/storage/);
    expect(uploadErrorText('unsupported_media_type')).toMatch(/JPEG, PNG, WebP or GIF/);
    expect(uploadErrorText('something_new')).toBe('The upload failed.');
  });
});
