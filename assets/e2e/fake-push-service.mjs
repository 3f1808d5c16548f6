/**
 * A push service for the browser tests (the browser vendors' services are out of reach
 * here): an HTTP server on 127.0.0.1 that takes RFC 8030 push requests as the Nexus server
 * sends them, checks them like a real service would — `Content-Encoding: aes128gcm`, a
 * `TTL`, and VAPID (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>` with an ES256
 * signature made by `k`, `aud` = this origin, `exp` in the future and at most 24 h away,
 * `sub` present — answers 201, and decrypts the body (RFC 8291) with the subscription's
 * private key, as the browser would. Anything wrong is recorded and answered 400.
 */
import { createECDH, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer } from 'node:http';
import ece from 'http_ece';

const b64 = (buf) => Buffer.from(buf).toString('base64url');

/** Checks a VAPID JWT against the key in the header; returns its claims or throws. */
export function checkVapid(authorization, origin, now = Date.now()) {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`Authorization is not "vapid t=…, k=…": ${authorization}`);
  const [, jwt, k] = m;
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  if (header.alg !== 'ES256') throw new Error(`JWT alg ${header.alg}, not ES256`);
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) }, format: 'jwk' });
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) throw new Error(`ES256 signature of ${signature.length} bytes, not 64`);
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('JWT signature does not verify with k');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (claims.aud !== origin) throw new Error(`aud ${claims.aud}, expected ${origin}`);
  const secs = now / 1000;
  if (!(claims.exp > secs)) throw new Error(`exp ${claims.exp} is not in the future`);
  if (claims.exp > secs + 24 * 3600 + 60) throw new Error(`exp ${claims.exp} is more than 24 h away`);
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Error(`sub ${claims.sub} is not a mailto: or https: URL`);
  return { claims, k };
}

export async function startPushService() {
  /** id → { ecdh, auth } */
  const subscriptions = new Map();
  /** Every request: { id, ok, ttl, urgency, text, payload, vapid, error }. */
  const received = [];
  let origin = '';

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    const sub = id && subscriptions.get(id);
    if (req.method !== 'POST' || !sub) {
      res.writeHead(404).end();
      return;
    }
    const entry = { id, ok: false, ttl: null, urgency: req.headers.urgency ?? null, text: null, payload: null, vapid: null, error: null };
    try {
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`Content-Encoding ${req.headers['content-encoding']}, not aes128gcm`);
      const ttl = Number(req.headers.ttl);
      if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) throw new Error(`TTL ${req.headers.ttl} is not a whole number of seconds`);
      entry.ttl = ttl;
      entry.vapid = checkVapid(req.headers.authorization, origin);
      // RFC 8291: the sender's ECDH key travels in the aes128gcm header (keyid).
      entry.text = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth }).toString('utf8');
      entry.payload = JSON.parse(entry.text);
      entry.ok = true;
      received.push(entry);
      res.writeHead(201, { location: `${origin}/message/${randomUUID()}` }).end();
    } catch (err) {
      entry.error = err.message;
      received.push(entry);
      res.writeHead(400, { 'content-type': 'text/plain' }).end(err.message);
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    received,
    /** A new subscription, as `PushSubscription.toJSON()` would give it. */
    subscribe() {
      const id = randomUUID();
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      subscriptions.set(id, { ecdh, auth });
      return { id, json: { endpoint: `${origin}/push/${id}`, expirationTime: null, keys: { p256dh: b64(ecdh.getPublicKey()), auth: b64(auth) } } };
    },
    /** The requests for one subscription so far. */
    for: (id) => received.filter((r) => r.id === id),
    close: () => new Promise((r) => {
      server.closeAllConnections?.();
      server.close(() => r(undefined));
    }),
  };
}
