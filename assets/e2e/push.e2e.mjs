/**
 * End-to-end: the installable app and web push, against the real server.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e:push
 *
 * The server must run with `push.allow_http_endpoints = true`
 * (NEXUS_PUSH__ALLOW_HTTP_ENDPOINTS=true; scripts/e2e sets it): the push service here is a
 * local fake (fake-push-service.mjs) at http://127.0.0.1.
 *
 * Steps: Chromium registers the service worker at scope `/`, and the headers of /sw.js and
 * the manifest are right; offline, a reload still opens the app from the service worker's
 * cache and shows the offline banner (not the browser's error page), and it recovers
 * online; turning notifications on in headless Chromium, which has no push service, says
 * they will show while a tab is open. Then A subscribes *through the API* with the fake's
 * endpoint and keys made in Node — a real `PushManager.subscribe` needs the browser
 * vendor's push service, unreachable here — and closes the app (no socket); B writes to A;
 * the fake receives the push (VAPID checked), decrypts it, and the test hands exactly that
 * payload to A's service worker through the DevTools protocol
 * (`ServiceWorker.deliverPushMessage`); the notification shown has the right title, body,
 * tag and URL, and that URL opens the conversation. While A has the app open, B's message
 * brings no push; once A mutes the conversation (in its menu), none either.
 *
 * Env: NEXUS_URL (loopback only), CHROMIUM; NEXUS_E2E_FAKE=1 runs it against
 * dev-fake-server.mjs instead (UI work only: its pushes come from npm web-push).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startPushService } from './fake-push-service.mjs';
import { Bot, launchBrowser, openContext, signInContext, serverUnderTest, sleep, STEP_MS, suffix, until } from './lib.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
/** How long a push that must not come is waited for. */
const QUIET_MS = 4_000;
const IN_PAGE_ONLY = 'Notifications will show while Nexus is open in a tab';

const diagnostics = [];
let server;
let browser;
let push;
let alice;
let bob;
let conversationId;
let failed = false;
/** A's browser: its context stays across steps (the service worker lives there). */
const a = { context: null, page: null, cdp: null, registrations: new Map() };

const visible = (locator, timeout = STEP_MS) => locator.waitFor({ state: 'visible', timeout });

/** One step; after a failure the rest are skipped. A's page is screenshot on failure. */
function step(name, fn) {
  it(name, { timeout: STEP_MS * 3 }, async (t) => {
    if (failed) return t.skip('an earlier step failed');
    try {
      await fn();
    } catch (err) {
      failed = true;
      const shot = `${ARTIFACTS}push-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}.png`;
      await a.page?.screenshot({ path: shot }).catch(() => undefined);
      const said = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-20).join('\n  ')}` : '';
      err.message = `step "${name}" failed: ${err.message}\nScreenshot: ${shot}${said}`;
      throw err;
    }
  });
}

async function expectShell(page) {
  await visible(page.getByRole('navigation', { name: 'Conversations' }));
  await visible(page.getByText(`@${alice.user.username}`, { exact: true }));
}

/** The app closed: A's page leaves the origin, so its socket closes. */
async function closeApp() {
  await a.page.goto('about:blank');
  // The server learns of the closed socket at once; leave it a moment to drop the session.
  await sleep(500);
}

/** The notifications the service worker shows now, read from a page of the origin that is not the app. */
async function shownNotifications() {
  const probe = await a.context.newPage();
  try {
    await probe.goto(`${server.url}/api/v1/server`);
    return await probe.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const list = reg ? await reg.getNotifications() : [];
      return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
    });
  } finally {
    await probe.close();
  }
}

describe('installable app and web push', () => {
  before(async () => {
    server = await serverUnderTest();
    browser = await launchBrowser();
    push = await startPushService();
    const tag = suffix();
    alice = await Bot.register(server.url, `pa_${tag}`, `Alice ${tag}`);
    bob = await Bot.register(server.url, `pb_${tag}`, `Bob ${tag}`);
    conversationId = (await bob.direct(alice.user.id)).id;
    await bob.post(conversationId, 'hello Alice');
  });

  after(async () => {
    await a.context?.close().catch(() => undefined);
    await browser?.close();
    await push?.close();
    await server?.close();
  });

  step('the service worker takes the app at scope /; /sw.js and the manifest have their headers', async () => {
    const { context, page } = await openContext(browser, { diagnostics, name: 'alice' });
    Object.assign(a, { context, page });
    await context.grantPermissions(['notifications'], { origin: server.url });
    a.cdp = await context.newCDPSession(page);
    a.cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
      for (const r of e.registrations) a.registrations.set(r.registrationId, r);
    });
    await a.cdp.send('ServiceWorker.enable');
    await signInContext(context, server.url, alice);
    await page.goto(server.url);
    await expectShell(page);
    const reg = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.ready;
      return { scope: r.scope, state: r.active?.state, script: r.active?.scriptURL };
    });
    assert.equal(reg.scope, `${server.url}/`);
    assert.equal(reg.script, `${server.url}/sw.js`);
    await until('the worker to be activated', () => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state === 'activated'));
    await until('DevTools to list the registration', () => [...a.registrations.values()].some((r) => r.scopeURL === `${server.url}/` && !r.isDeleted));

    const sw = await fetch(`${server.url}/sw.js`);
    assert.equal(sw.status, 200);
    assert.match(sw.headers.get('content-type') ?? '', /javascript/);
    assert.equal(sw.headers.get('service-worker-allowed'), '/');
    assert.match(sw.headers.get('cache-control') ?? '', /no-cache/);
    assert.doesNotMatch(await sw.text(), /<!doctype html>/i);
    const manifest = await fetch(`${server.url}/manifest.webmanifest`);
    assert.match(manifest.headers.get('content-type') ?? '', /^application\/manifest\+json/);
    const m = await manifest.json();
    assert.equal(m.name, 'Nexus');
    assert.equal(m.start_url, '/');
    assert.equal(m.display, 'standalone');
    assert.deepEqual(m.icons.map((i) => i.sizes).sort(), ['192x192', '512x512', '512x512']);
    assert.ok(m.icons.some((i) => i.purpose === 'maskable'));
    for (const icon of m.icons) {
      const res = await fetch(`${server.url}${icon.src}`);
      assert.equal(res.headers.get('content-type'), 'image/png', icon.src);
    }
    assert.equal(await page.locator('link[rel="manifest"]').getAttribute('href'), '/manifest.webmanifest');
  });

  step('offline, a reload opens the app from the service worker and says it is offline; back online it carries on', async () => {
    const { context, page } = a;
    await context.setOffline(true);
    try {
      await page.reload();
      assert.equal(await page.title(), 'Nexus', 'the app, not the browser’s error page');
      // The connection banner: offline, or reconnecting (Chromium's emulation may leave navigator.onLine true).
      await visible(page.getByRole('status').getByText(/You’re offline|Reconnecting/));
      assert.equal(await page.locator('#root').count(), 1);
    } finally {
      await context.setOffline(false);
    }
    await expectShell(page);
  });

  step('turning notifications on without a push service: shown while a tab is open', async () => {
    const { page } = a;
    await page.getByRole('button', { name: 'Account menu' }).click();
    const item = page.getByRole('menuitemcheckbox', { name: /Notifications on this device/ });
    assert.equal(await item.getAttribute('aria-checked'), 'false');
    await item.click();
    await visible(page.getByText(IN_PAGE_ONLY).first(), STEP_MS * 2);
    await page.getByRole('button', { name: 'Account menu' }).click();
    assert.equal(await page.getByRole('menuitemcheckbox', { name: /Notifications on this device/ }).getAttribute('aria-checked'), 'true');
    await page.keyboard.press('Escape');
  });

  let sub;
  step('a message to A while the app is closed: pushed, decrypted, shown, and its URL opens the conversation', async () => {
    const key = await alice.call('GET', '/push/key');
    assert.equal(key.enabled, true, 'push is enabled on the server under test');
    assert.equal(Buffer.from(key.public_key, 'base64url').length, 65);
    sub = push.subscribe();
    const created = await alice.call('POST', '/push/subscriptions', sub.json);
    assert.match(created.id, /^[0-9a-f-]{36}$/);

    await closeApp();
    const text = `Dinner at 8? ${suffix()}`;
    await bob.post(conversationId, `${text}\nand a second line`);
    const [received] = await until('the push at the push service', () => (push.for(sub.id).length ? push.for(sub.id) : null), STEP_MS);
    assert.equal(received.error, null, `the push service refused the push: ${received.error}`);
    assert.equal(received.vapid.k, key.public_key, 'VAPID k is the server’s key');
    const p = received.payload;
    assert.equal(p.v, 1);
    assert.equal(p.type, 'message');
    assert.equal(p.conversation_id, conversationId);
    assert.equal(p.conversation_kind, 'direct');
    assert.equal(p.sender.id, bob.user.id);
    assert.equal(p.sender.display_name, bob.user.display_name);
    assert.equal(p.body, text);
    assert.equal(p.hidden, false);
    assert.ok(p.unread >= 1, `unread ${p.unread}`);

    const registration = [...a.registrations.values()].find((r) => r.scopeURL === `${server.url}/` && !r.isDeleted);
    await a.cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: registration.registrationId, data: received.text });
    const shown = await until('the notification', async () => (await shownNotifications()).find((n) => n.tag === conversationId));
    assert.equal(shown.title, bob.user.display_name);
    assert.equal(shown.body, text);
    assert.equal(shown.data.url, `/?c=${conversationId}`);

    await a.page.goto(`${server.url}${shown.data.url}`);
    await visible(a.page.locator('#chat-title').getByText(bob.user.display_name));
    await visible(a.page.getByText(text).first());
  });

  step('while A has the app open, B’s message brings no push', async () => {
    const before = push.for(sub.id).length;
    const text = `while open ${suffix()}`;
    await bob.post(conversationId, text);
    await visible(a.page.getByText(text).first());
    await sleep(QUIET_MS);
    assert.equal(push.for(sub.id).length, before, 'no push while a socket is open');
  });

  step('muted until unmuted (in the conversation menu): no push with the app closed', async () => {
    const { page } = a;
    await page.getByRole('button', { name: 'Conversation options' }).click();
    await page.getByRole('menuitem', { name: /Mute until I unmute/ }).click();
    await visible(page.locator('#chat-title').getByText('(muted)'));
    await visible(page.getByTestId('row-muted').first());
    const settings = await alice.call('GET', '/notifications/settings');
    const mute = settings.mutes.find((m) => m.conversation_id === conversationId);
    assert.ok(mute, `the server lists the mute: ${JSON.stringify(settings.mutes)}`);
    assert.equal(mute.until, null, 'muted until unmuted');

    await closeApp();
    const before = push.for(sub.id).length;
    await bob.post(conversationId, `muted ${suffix()}`);
    await sleep(QUIET_MS);
    assert.equal(push.for(sub.id).length, before, 'no push for a muted conversation');

    // Unmuted, the next one is pushed again (the quiet above was the mute, not a broken path).
    await alice.call('DELETE', `/notifications/mutes/${conversationId}`);
    await bob.post(conversationId, `unmuted ${suffix()}`);
    await until('a push after unmuting', () => push.for(sub.id).length > before, STEP_MS);
  });
});
