/**
 * FOR UI DEVELOPMENT ONLY — the images half of e2e/dev-fake-server.mjs: `POST /uploads`
 * (multipart, one field `file`) and `GET /media/{id}[/preview|/thumbnail]`, in memory,
 * following docs/protocol.md ("Images"). Not the Nexus server.
 *
 * Behaviour worth knowing when reading a UI test against it:
 * - The type and size come from the bytes (PNG, JPEG, GIF, WebP headers); anything else
 *   is 415 `unsupported_media_type`. Over FAKE_MAX_UPLOAD_BYTES (25 MiB) is 413
 *   `payload_too_large`, over 50 M pixels 413 `image_too_large`, past FAKE_QUOTA_BYTES per
 *   user (1 GiB) 413 `quota_exceeded`.
 * - Nothing is re-encoded: the preview and thumbnail are the original bytes, with the sizes
 *   they would have. Every upload gets the same blurhash. The media URLs carry a fake
 *   signature and need no token.
 * - FAKE_UPLOAD_DELAY_MS holds each upload's answer back, to watch the progress bars.
 */
import { uuidv7 } from './fake-messaging.mjs';

const MAX_BYTES = Number(process.env.FAKE_MAX_UPLOAD_BYTES ?? 25 * 1024 * 1024);
const QUOTA = Number(process.env.FAKE_QUOTA_BYTES ?? 1024 * 1024 * 1024);
const MAX_PIXELS = 50_000_000;
const BLURHASH = 'LEHV6nWB2yk8pyo0adR*.7kCMdnj';

export function createMedia({ problem, send }) {
  /** id → { id, owner, mime, bytes, width, height, data, used } */
  const uploads = new Map();
  const usage = new Map();

  const fitInto = (w, h, box) => {
    const k = Math.min(1, box / Math.max(w, h));
    return { width: Math.max(1, Math.round(w * k)), height: Math.max(1, Math.round(h * k)) };
  };

  function view(u) {
    const exp = Math.ceil(Date.now() / 3_600_000 + 24) * 3600;
    const link = (r) => `/api/v1/media/${u.id}${r}?exp=${exp}&sig=fake`;
    return {
      id: u.id,
      mime: u.mime,
      bytes: u.bytes,
      width: u.width,
      height: u.height,
      blurhash: BLURHASH,
      url: link(''),
      preview: { url: link('/preview'), ...fitInto(u.width, u.height, 1600) },
      thumbnail: { url: link('/thumbnail'), ...fitInto(u.width, u.height, 400) },
    };
  }

  async function upload(req, res, me) {
    const type = req.headers['content-type'] ?? '';
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
    if (!type.startsWith('multipart/form-data') || !boundary) {
      req.resume();
      return problem(res, 415, 'unsupported_media_type', 'Send the image as multipart/form-data.');
    }
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BYTES + 64 * 1024) {
        problem(res, 413, 'payload_too_large', `An upload may be at most ${MAX_BYTES} bytes.`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const file = filePart(Buffer.concat(chunks), boundary[1] ?? boundary[2]);
    if (!file || file.length === 0) return problem(res, 400, 'validation_failed', 'The form has no (non-empty) field "file".');
    if (file.length > MAX_BYTES) return problem(res, 413, 'payload_too_large', `An upload may be at most ${MAX_BYTES} bytes.`);
    const info = sniff(file);
    if (!info) return problem(res, 415, 'unsupported_media_type', 'Only JPEG, PNG, WebP and GIF images are accepted.');
    if (!info.width || !info.height) return problem(res, 400, 'invalid_image', 'The image is truncated or corrupt.');
    if (info.width * info.height > MAX_PIXELS) return problem(res, 413, 'image_too_large', 'The image has too many pixels.');
    const used = usage.get(me.id) ?? 0;
    if (used + file.length > QUOTA) return problem(res, 413, 'quota_exceeded', 'Your storage quota is used up.');
    usage.set(me.id, used + file.length);
    const u = { id: uuidv7(), owner: me.id, bytes: file.length, data: file, used: false, ...info };
    uploads.set(u.id, u);
    const delay = Number(process.env.FAKE_UPLOAD_DELAY_MS ?? 0);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    send(res, 201, view(u));
  }

  function media(res, path) {
    const m = /^\/media\/([\w-]+)(\/preview|\/thumbnail)?\?(.*)$/.exec(path);
    const u = m && uploads.get(m[1]);
    if (!m || !new URLSearchParams(m[3]).get('sig')) return problem(res, 403, 'forbidden', 'Missing signature.');
    if (!u) return problem(res, 404, 'not_found', 'No such image.');
    res.writeHead(200, {
      'content-type': u.mime,
      'content-length': u.data.length,
      'cache-control': 'private, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
    res.end(u.data);
  }

  /**
   * Attaches uploads to a message: each must be the sender's and not attached before.
   * Returns { attachments } or { error: [code, detail] }; nothing is claimed on an error.
   */
  function claim(me, ids) {
    if (!Array.isArray(ids) || ids.length > 10 || ids.some((id) => typeof id !== 'string')) {
      return { error: ['validation_failed', 'attachments must hold 1–10 upload ids'] };
    }
    const found = [];
    for (const id of ids) {
      const u = uploads.get(id);
      if (!u || u.owner !== me) return { error: ['not_found', `no upload ${id}`] };
      if (u.used || found.includes(u)) return { error: ['attachment_used', `upload ${id} is already attached`] };
      found.push(u);
    }
    for (const u of found) u.used = true;
    return { attachments: found.map(view) };
  }

  return { upload, media, claim };
}

/** The bytes of the multipart field named "file". */
function filePart(body, boundary) {
  const sep = Buffer.from(`--${boundary}`);
  let at = body.indexOf(sep);
  while (at >= 0) {
    const start = at + sep.length + 2;
    const next = body.indexOf(sep, start);
    if (next < 0) return null;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0 || headerEnd > next) return null;
    const headers = body.subarray(start, headerEnd).toString('latin1');
    if (/name="file"/i.test(headers)) return body.subarray(headerEnd + 4, next - 2);
    at = next;
  }
  return null;
}

/** { mime, width, height } from an image's header, or null when it is not one of the four. */
export function sniff(b) {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { mime: 'image/png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString('latin1', 0, 4) === 'GIF8') return { mime: 'image/gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    const kind = b.toString('latin1', 12, 16);
    if (kind === 'VP8X') return { mime: 'image/webp', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    if (kind === 'VP8 ') return { mime: 'image/webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    if (kind === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { mime: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    return { mime: 'image/webp', width: 0, height: 0 };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return { mime: 'image/jpeg', width: 0, height: 0 };
      const marker = b[i + 1];
      const len = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { mime: 'image/jpeg', width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
      }
      i += 2 + len;
    }
    return { mime: 'image/jpeg', width: 0, height: 0 };
  }
  return null;
}
