#!/usr/bin/env node
/**
 * FOR UI DEVELOPMENT ONLY — not the Nexus server, and not what the real e2e run tests.
 *
 * Serves the built client (`dist/`) and fakes /api/v1 in memory, following the API contract
 * (problem JSON errors with `code`, the HttpOnly `nexus_refresh` cookie on
 * Path=/api/v1/auth, rotation on refresh): auth, users and server here; conversations,
 * messages, receipts and the WebSocket gateway (docs/protocol.md) in fake-messaging.mjs
 * (replies, mentions, edits, deletions, reactions, pins, changes and search in
 * fake-changes.mjs);
 * uploads and media in fake-media.mjs; call signaling (no TURN) in fake-calls.mjs; group
 * call state (no SFU) in fake-rooms.mjs; push subscriptions and notification settings (no
 * pushes sent) in fake-push.mjs.
 * Lets you click through the client, take screenshots and run the e2e files without
 * building the Rust server.
 *
 *   node e2e/dev-fake-server.mjs            # http://127.0.0.1:5174
 *   PORT=0 FAKE_REGISTRATION=invite FAKE_LATENCY_MS=400 node e2e/dev-fake-server.mjs
 *
 * Env: PORT (default 5174; 0 picks a free one), FAKE_REGISTRATION (open|invite|closed),
 * FAKE_INVITE_CODE (default "letmein"), FAKE_SERVER_NAME, FAKE_EXPIRES_IN (seconds, default
 * 900), FAKE_LATENCY_MS (added to every API call), FAKE_STORE_DELAY_MS (ack → message.new,
 * default 5), FAKE_MESSAGE_RATE (messages/s per user, default unlimited), FAKE_RING_SECS
 * (call ring timeout, default 30), FAKE_CALL_GRACE_SECS (default 30), FAKE_ICE_SERVERS (JSON
 * list for GET /calls/ice-servers, default []), FAKE_UPLOAD_DELAY_MS (holds each upload's
 * answer back), FAKE_MAX_UPLOAD_BYTES, FAKE_QUOTA_BYTES, FAKE_EDIT_WINDOW_SECS,
 * FAKE_DELETE_WINDOW_SECS. Listens on 127.0.0.1 only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMedia } from './fake-media.mjs';
import { createMessaging } from './fake-messaging.mjs';
import { createPush } from './fake-push.mjs';

const DIST = resolve(fileURLToPath(new URL('../dist', import.meta.url)));
const COOKIE = 'nexus_refresh';
const COOKIE_PATH = '/api/v1/auth';
const REFRESH_TTL_S = 30 * 24 * 3600;

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

/** @param {{port?: number, registration?: 'open'|'invite'|'closed', inviteCode?: string, name?: string, expiresIn?: number, latencyMs?: number, quiet?: boolean}} [opts] */
export async function startFakeServer(opts = {}) {
  const cfg = {
    port: opts.port ?? Number(process.env.PORT ?? 5174),
    registration: opts.registration ?? process.env.FAKE_REGISTRATION ?? 'open',
    inviteCode: opts.inviteCode ?? process.env.FAKE_INVITE_CODE ?? 'letmein',
    name: opts.name ?? process.env.FAKE_SERVER_NAME ?? 'Nexus',
    expiresIn: opts.expiresIn ?? Number(process.env.FAKE_EXPIRES_IN ?? 900),
    latencyMs: opts.latencyMs ?? Number(process.env.FAKE_LATENCY_MS ?? 0),
  };

  /** username → { user, password } */
  const accounts = new Map();
  /** access token → { userId, exp (ms) } */
  const accessTokens = new Map();
  /** refresh token → userId */
  const refreshTokens = new Map();

  const problem = (res, status, code, detail, title = 'Request failed') =>
    send(res, status, { type: `https://nexus.invalid/problems/${code}`, title, status, detail, code }, {
      'content-type': 'application/problem+json',
    });

  function issue(res, user, status = 200) {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(32).toString('base64url');
    accessTokens.set(access, { userId: user.id, exp: Date.now() + cfg.expiresIn * 1000 });
    refreshTokens.set(refresh, user.id);
    send(
      res,
      status,
      { user, access_token: access, token_type: 'Bearer', expires_in: cfg.expiresIn },
      { 'set-cookie': `${COOKIE}=${refresh}; HttpOnly; SameSite=Strict; Path=${COOKIE_PATH}; Max-Age=${REFRESH_TTL_S}` },
    );
  }

  const clearCookie = { 'set-cookie': `${COOKIE}=; HttpOnly; SameSite=Strict; Path=${COOKIE_PATH}; Max-Age=0` };

  function bearerUser(req) {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const entry = m && accessTokens.get(m[1]);
    if (!entry || entry.exp < Date.now()) return null;
    return [...accounts.values()].find((a) => a.user.id === entry.userId)?.user ?? null;
  }

  const chars = (s) => Array.from(s).length;

  const userById = (id) => [...accounts.values()].find((a) => a.user.id === id)?.user ?? null;
  const media = createMedia({ problem, send });
  const messaging = createMessaging({
    media,
    userById,
    tokenUser: (token) => {
      const entry = accessTokens.get(token);
      if (!entry || entry.exp < Date.now()) return null;
      const user = userById(entry.userId);
      return user ? { user, exp: entry.exp } : null;
    },
    problem,
    send,
    onStoredFor: (uid, message, c, unread) => push.messageStored(uid, message, c, unread),
  });
  const push = createPush({ problem, send, userById });

  async function api(req, res, path) {
    const method = req.method ?? 'GET';
    // Media links are signed, not authorised: an <img> sends no token.
    if (method === 'GET' && path.startsWith('/media/')) return media.media(res, path);
    if (method === 'POST' && path === '/uploads') {
      const uploader = bearerUser(req);
      if (!uploader) return req.resume(), problem(res, 401, 'unauthorized', 'Missing or expired access token.', 'Unauthorized');
      return media.upload(req, res, uploader);
    }
    const body = method === 'GET' ? {} : await readJson(req);
    if (body === undefined) return problem(res, 400, 'validation_failed', 'The request body is not valid JSON.');

    if (method === 'GET' && path === '/server') {
      return send(res, 200, { name: cfg.name, registration: cfg.registration, version: '0.1.0-fake' });
    }

    if (method === 'POST' && path === '/auth/register') {
      if (cfg.registration === 'closed') {
        return problem(res, 403, 'registration_closed', 'Registration is closed on this server.');
      }
      const { username = '', display_name = '', password = '', invite_code } = body;
      if (typeof username !== 'string' || !/^[a-z0-9_.]{3,32}$/.test(username)) {
        return problem(res, 422, 'validation_failed', 'username must be 3–32 characters of a–z, 0–9, "_" and ".".');
      }
      const name = typeof display_name === 'string' ? display_name.trim() : '';
      if (chars(name) < 1 || chars(name) > 64) {
        return problem(res, 422, 'validation_failed', 'display_name must be 1–64 characters.');
      }
      if (typeof password !== 'string' || chars(password) < 8 || chars(password) > 1024) {
        return problem(res, 422, 'validation_failed', 'password must be 8–1024 characters.');
      }
      if (cfg.registration === 'invite' && invite_code !== cfg.inviteCode) {
        return problem(res, 403, 'invalid_invite', 'That invite code is not valid.');
      }
      if (accounts.has(username)) {
        return problem(res, 409, 'username_taken', 'That username is already taken.');
      }
      const user = {
        id: randomUUID(),
        username,
        display_name: name,
        is_admin: accounts.size === 0,
        created_at: new Date().toISOString(),
      };
      accounts.set(username, { user, password });
      return issue(res, user, 201);
    }

    if (method === 'POST' && path === '/auth/login') {
      const account = accounts.get(body.username);
      if (!account || account.password !== body.password) {
        return problem(res, 401, 'invalid_credentials', 'Incorrect username or password.', 'Unauthorized');
      }
      return issue(res, account.user);
    }

    if (method === 'POST' && path === '/auth/refresh') {
      const token = cookies(req)[COOKIE] ?? body.refresh_token;
      const userId = token && refreshTokens.get(token);
      const account = userId && [...accounts.values()].find((a) => a.user.id === userId);
      if (!account) {
        return send(
          res,
          401,
          { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'No valid refresh token.', code: 'unauthorized' },
          { 'content-type': 'application/problem+json', ...clearCookie },
        );
      }
      refreshTokens.delete(token); // rotation
      return issue(res, account.user);
    }

    if (method === 'POST' && path === '/auth/logout') {
      const token = cookies(req)[COOKIE];
      if (token) refreshTokens.delete(token);
      return send(res, 204, null, clearCookie);
    }

    const me = bearerUser(req);
    if (!me) return problem(res, 401, 'unauthorized', 'Missing or expired access token.', 'Unauthorized');

    if (method === 'POST' && path === '/auth/logout-all') {
      for (const [t, id] of refreshTokens) if (id === me.id) refreshTokens.delete(t);
      for (const [t, e] of accessTokens) if (e.userId === me.id) accessTokens.delete(t);
      return send(res, 204, null);
    }
    if (method === 'GET' && path === '/users/me') return send(res, 200, me);
    // Calls (fake-calls.mjs): no STUN/TURN of its own; peers on one machine connect over host
    // candidates. FAKE_ICE_SERVERS (JSON, e.g. a local coturn) is handed out as it is.
    if (method === 'GET' && path === '/calls/ice-servers') {
      return send(res, 200, { ice_servers: JSON.parse(process.env.FAKE_ICE_SERVERS || '[]'), ttl: 600 });
    }
    if (method === 'PATCH' && path === '/users/me') {
      if (typeof body.display_name === 'string') {
        const name = body.display_name.trim();
        if (chars(name) < 1 || chars(name) > 64) {
          return problem(res, 422, 'validation_failed', 'display_name must be 1–64 characters.');
        }
        me.display_name = name;
      }
      return send(res, 200, me);
    }
    if (method === 'GET' && (path === '/search' || path.startsWith('/search?'))) {
      return send(res, 200, messaging.search(me.id, new URL(path, 'http://fake').searchParams));
    }
    if (await messaging.rest(req, res, path, me, body)) return;
    if (push.rest(req, res, path, me, body, (cid) => messaging.isMember(cid, me.id))) return;
    if (method === 'GET' && path.startsWith('/users?')) {
      const q = new URLSearchParams(path.slice('/users?'.length)).get('query')?.toLowerCase() ?? '';
      const found = [...accounts.values()]
        .map((a) => a.user)
        .filter((u) => q && (u.username.includes(q) || u.display_name.toLowerCase().includes(q)));
      return send(res, 200, found.slice(0, 20));
    }
    return problem(res, 404, 'not_found', `No route for ${method} ${path}.`, 'Not Found');
  }

  async function staticFile(res, urlPath) {
    const rel = normalize(decodeURIComponent(urlPath)).replace(/^(\.\.[/\\])+/, '');
    let file = join(DIST, rel);
    if (!file.startsWith(DIST)) return send(res, 404, null);
    const isFile = await stat(file).then((s) => s.isFile(), () => false);
    if (!isFile && /^\/(assets\/|icons\/|sw\.js$|manifest\.webmanifest$)/.test(urlPath)) return send(res, 404, null);
    if (!isFile) file = join(DIST, 'index.html'); // SPA fallback
    try {
      const data = await readFile(file);
      const immutable = file.includes(`${join(DIST, 'assets')}`);
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...(urlPath === '/sw.js' ? { 'service-worker-allowed': '/' } : {}),
      });
      res.end(data);
    } catch {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('dist/ is missing: run `npm run build` first.\n');
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const url = req.url ?? '/';
      if (url.startsWith('/api/v1/')) {
        if (cfg.latencyMs) await new Promise((r) => setTimeout(r, cfg.latencyMs));
        await api(req, res, url.slice('/api/v1'.length));
      } else if (url.startsWith('/api/')) {
        problem(res, 404, 'not_found', 'Unknown API version.', 'Not Found');
      } else {
        await staticFile(res, url.split('?')[0] ?? '/');
      }
    } catch (err) {
      console.error(err);
      if (!res.headersSent) problem(res, 500, 'internal', 'The fake server crashed on this request.');
    }
  });

  server.on('upgrade', (req, socket, head) => messaging.upgrade(req, socket, head));

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(cfg.port, '127.0.0.1', ok);
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${port}`;
  if (!opts.quiet) console.log(`fake Nexus (UI development only) on ${url} — registration: ${cfg.registration}`);
  return {
    url,
    close: () =>
      new Promise((r) => {
        messaging.close();
        server.closeAllConnections?.();
        server.close(() => r(undefined));
      }),
  };
}

function send(res, status, body, headers = {}) {
  const payload = body === null || status === 204 ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(payload ? { 'content-type': 'application/json' } : {}),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

async function readJson(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function cookies(req) {
  return Object.fromEntries(
    (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
      .filter(([k]) => k)
      .map(([k, ...v]) => [k, v.join('=')]),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { close } = await startFakeServer();
  const stop = () => close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
