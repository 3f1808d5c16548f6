/** The server's VAPID public key (base64url, unpadded) as `PushManager.subscribe` wants it. */
export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.trim().replace(/=+$/u, '');
  if (!/^[A-Za-z0-9_-]*$/u.test(clean) || clean.length % 4 === 1) throw new Error('not base64url');
  const b64 = clean.replace(/-/gu, '+').replace(/_/gu, '/') + '='.repeat((4 - (clean.length % 4)) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** An uncompressed P-256 point: 65 bytes starting with 0x04. */
export function applicationServerKey(publicKey: string): Uint8Array<ArrayBuffer> {
  const bytes = base64UrlToBytes(publicKey);
  if (bytes.length !== 65 || bytes[0] !== 0x04) throw new Error('the server key is not a P-256 public key');
  return bytes;
}
