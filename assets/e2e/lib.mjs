/**
 * Helpers shared by the browser scripts (chat.e2e.mjs, call.e2e.mjs, screenshots.mjs): the server under
 * test (NEXUS_URL, or the in-memory fake with NEXUS_E2E_FAKE=1), Debian's Chromium with
 * traffic held to loopback, and a small API client that talks to /api/v1 and the gateway
 * as a bot would (to seed data and to play other users).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

export const STEP_MS = 15_000;
export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** NEXUS_URL, or a fresh fake server when NEXUS_E2E_FAKE=1. Returns { url, close }. */
export async function serverUnderTest() {
  let url = process.env.NEXUS_URL?.replace(/\/+$/, '');
  let fake = null;
  if (!url && process.env.NEXUS_E2E_FAKE === '1') {
    const { startFakeServer } = await import('./dev-fake-server.mjs');
    fake = await startFakeServer({ port: 0, quiet: true });
    url = fake.url;
  }
  assert.ok(url, 'Set NEXUS_URL to the server under test, e.g. NEXUS_URL=http://127.0.0.1:8080 (or NEXUS_E2E_FAKE=1)');
  assert.ok(LOOPBACK.has(new URL(url).hostname), `NEXUS_URL must be a loopback address, got ${url}`);
  return { url, fake: !!fake, close: async () => fake?.close() };
}

/** Debian's Chromium, headless; `args` are added to the defaults (e.g. fake camera flags for calls). */
export function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
    timeout: STEP_MS,
  });
}

/** Polls `fn` until it returns truthy, at most `timeout` ms. Returns the value. */
export async function until(what, fn, timeout = STEP_MS) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(200);
  }
}

/** A browser profile (own cookie jar) whose traffic stays on this machine. */
export async function openContext(browser, { diagnostics = [], name = 'page', ...options } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'no-preference', ...options });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || LOOPBACK.has(url.hostname)) return route.continue();
    diagnostics.push(`${name}: blocked non-loopback request ${url.href}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 401|WebSocket/.test(msg.text())) diagnostics.push(`${name} console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => diagnostics.push(`${name} page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 500) diagnostics.push(`${name}: HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return { context, page };
}

export const suffix = () => randomBytes(4).toString('hex');
export const password = () => `pw-${randomBytes(9).toString('base64url')}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A user driven through the API, as a bot: register, then REST calls and a socket. */
export class Bot {
  constructor(baseUrl, auth, pw) {
    this.baseUrl = baseUrl;
    this.user = auth.user;
    this.token = auth.access_token;
    this.password = pw;
    this.socket = null;
    this.events = [];
  }

  static async register(baseUrl, username, displayName) {
    const pw = password();
    const res = await fetch(`${baseUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, display_name: displayName, password: pw, ...inviteCode() }),
      signal: AbortSignal.timeout(STEP_MS),
    });
    const text = await res.text();
    assert.ok(res.ok, `register ${username}: HTTP ${res.status} ${text}`);
    return new Bot(baseUrl, JSON.parse(text), pw);
  }

  async call(method, path, body, headers = {}) {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(STEP_MS),
      });
      const text = await res.text();
      const json = text ? JSON.parse(text) : null;
      if (res.status === 429 && attempt < 50) {
        await sleep(Math.max(50, Number(json?.retry_after_ms ?? 0) || Number(res.headers.get('retry-after') ?? 0) * 1000 || 250));
        continue;
      }
      assert.ok(res.ok, `${method} ${path}: HTTP ${res.status} ${text}`);
      return json;
    }
  }

  direct(userId) {
    return this.call('POST', '/conversations', { kind: 'direct', user_id: userId });
  }

  group(name, memberIds) {
    return this.call('POST', '/conversations', { kind: 'group', name, member_ids: memberIds });
  }

  /** Sends through the same pipeline as the gateway (acknowledged = durable). */
  post(conversationId, body, clientId = randomUUID()) {
    return this.call('POST', `/conversations/${conversationId}/messages`, { body }, { 'Idempotency-Key': clientId });
  }

  /** Uploads an image (`POST /uploads`, multipart); returns the Attachment. */
  async upload(bytes, name = 'image.png', type = 'image/png') {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    const res = await fetch(`${this.baseUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}` },
      body: form,
      signal: AbortSignal.timeout(STEP_MS),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `upload ${name}: HTTP ${res.status} ${text}`);
    return JSON.parse(text);
  }

  /** Posts a message carrying uploaded images (their ids). */
  postImages(conversationId, body, attachmentIds, clientId = randomUUID()) {
    return this.call('POST', `/conversations/${conversationId}/messages`, { body, attachments: attachmentIds }, { 'Idempotency-Key': clientId });
  }

  messages(conversationId, query = '') {
    return this.call('GET', `/conversations/${conversationId}/messages${query}`);
  }

  read(conversationId, seq) {
    return this.call('POST', `/conversations/${conversationId}/read`, { seq });
  }

  /** Waits until the conversation holds at least `count` messages; returns the latest page. */
  async waitForCount(conversationId, count, timeoutMs = STEP_MS) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const page = await this.messages(conversationId, '?limit=1');
      const last = page[page.length - 1]?.seq ?? 0;
      if (last >= count) return last;
      assert.ok(Date.now() < until, `conversation ${conversationId} has ${last} messages, expected ${count}`);
      await sleep(50);
    }
  }

  /** Opens the gateway socket (presence online) and waits for `ready`. */
  async connect() {
    const ws = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(this.token)}`, {
      headers: { origin: this.baseUrl },
    });
    this.socket = ws;
    ws.on('message', (data) => this.events.push(JSON.parse(String(data))));
    await new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error('no ready within the step timeout')), STEP_MS);
      ws.on('error', fail);
      const poll = setInterval(() => {
        if (this.events.some((e) => e.type === 'ready')) {
          clearInterval(poll);
          clearTimeout(t);
          ok();
        }
      }, 20);
    });
  }

  send(event) {
    this.socket?.send(JSON.stringify(event));
  }

  close() {
    this.socket?.close();
    this.socket = null;
  }
}

function inviteCode() {
  return process.env.NEXUS_INVITE_CODE ? { invite_code: process.env.NEXUS_INVITE_CODE } : {};
}

/** Signs a browser context in as `bot` (login sets the HttpOnly refresh cookie in its jar). */
export async function signInContext(context, baseUrl, bot) {
  const res = await context.request.post(`${baseUrl}/api/v1/auth/login`, {
    data: { username: bot.user.username, password: bot.password, use_cookie: true },
    timeout: STEP_MS,
  });
  assert.ok(res.ok(), `login ${bot.user.username}: HTTP ${res.status()}`);
}

/** Screenshots over this size are posterized until they fit (docs stay light). */
export const SCREENSHOT_MAX_BYTES = 400 * 1024;

/** Takes a PNG of `page` into `dir/file`; returns { file, bytes }. */
export async function screenshotTo(page, dir, file) {
  let png = await page.screenshot();
  // Blurred gradients are costly in PNG: over the budget, drop the lowest bits of each
  // channel (6, then 5 bits) — invisible here, and the dithering noise goes with them.
  for (const mask of [0xfc, 0xf8]) {
    if (png.length <= SCREENSHOT_MAX_BYTES) break;
    png = await posterize(page, png, mask);
  }
  await writeFile(join(dir, file), png);
  return { file, bytes: png.length };
}

/** Re-encodes a PNG through a canvas in the browser with `mask` applied to every channel. */
async function posterize(page, png, mask) {
  const helper = await page.context().newPage();
  try {
    const b64 = await helper.evaluate(
      async ([data, m]) => {
        const img = new Image();
        img.src = `data:image/png;base64,${data}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 0; i < pixels.data.length; i += 4) {
          pixels.data[i] &= m;
          pixels.data[i + 1] &= m;
          pixels.data[i + 2] &= m;
        }
        ctx.putImageData(pixels, 0, 0);
        return canvas.toDataURL('image/png').slice('data:image/png;base64,'.length);
      },
      [png.toString('base64'), mask],
    );
    return Buffer.from(b64, 'base64');
  } finally {
    await helper.close();
  }
}

/**
 * A `node:test` case whose failure carries a screenshot of every open page (in
 * `artifacts`, named `<prefix>-<test>-<who>.png`) and the browser's last complaints; the
 * pages' contexts are closed afterwards either way. `pages` maps a name to its page.
 */
export function testWithArtifacts({ it, prefix, artifacts, pages, diagnostics, timeout: fallback }) {
  return (name, fn, { timeout = fallback, skip } = {}) =>
    it(name, { timeout, skip }, async () => {
      try {
        await fn();
      } catch (err) {
        await mkdir(artifacts, { recursive: true });
        const shots = [];
        for (const [who, page] of pages) {
          const shot = join(artifacts, `${prefix}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${who}.png`);
          if (await page.screenshot({ path: shot }).then(() => true, () => false)) shots.push(shot);
        }
        const said = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-20).join('\n  ')}` : '';
        err.message = `"${name}" failed: ${err.message}\nScreenshots: ${shots.join(', ') || 'none'}${said}`;
        throw err;
      } finally {
        for (const [who, page] of pages) {
          pages.delete(who);
          await page.context().close().catch(() => undefined);
        }
      }
    });
}

/**
 * The candidate types of the selected pair of the peer connection a test hook exposes
 * (`window[hook].pc`): transport → selectedCandidatePairId → candidate-pair → candidates.
 */
export function selectedPairTypes(page, hook) {
  return page.evaluate(async (hook) => {
    const pc = window[hook]?.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    const byId = new Map();
    let pairId = null;
    report.forEach((r) => {
      byId.set(r.id, r);
      if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
    });
    const pair = pairId ? byId.get(pairId) : null;
    if (!pair) return null;
    return {
      local: byId.get(pair.localCandidateId)?.candidateType ?? null,
      remote: byId.get(pair.remoteCandidateId)?.candidateType ?? null,
    };
  }, hook);
}

