/**
 * End-to-end: the web client against a running Nexus server, in headless Chromium.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e
 *
 * A fresh random user registers through the UI, sees the shell with their display name,
 * reloads and stays signed in (the HttpOnly refresh cookie), signs out, signs back in, and
 * finally signs out everywhere, which also ends a second browser's session.
 *
 * Env:
 *   NEXUS_URL              base URL of the server (required; loopback only)
 *   CHROMIUM               browser binary (default /usr/bin/chromium, Debian's package)
 *   NEXUS_INVITE_CODE      used when the server's registration is "invite"
 *   NEXUS_E2E_FAKE=1       without NEXUS_URL: start e2e/dev-fake-server.mjs (UI work only)
 *   NEXUS_E2E_SCREENSHOTS  a folder: save shell-signin.png and shell-home.png there
 * On a failure, a screenshot of the page goes to e2e/artifacts/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const STEP_MS = 15_000;
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

let baseUrl = process.env.NEXUS_URL?.replace(/\/+$/, '');
let fake;
let browser;
let context;
let page;
/** Browser console errors and failed requests, printed when a step fails. */
const diagnostics = [];
let failed = false;

const suffix = randomBytes(5).toString('hex');
const account = {
  username: `e2e_${suffix}`,
  displayName: `E2E Tester ${suffix}`,
  password: `pw-${randomBytes(9).toString('base64url')}`,
};

/** Runs one step with a bounded time; after a failure the remaining steps are skipped. */
function step(name, fn) {
  it(name, { timeout: STEP_MS + 5_000 }, async (t) => {
    if (failed) return t.skip('an earlier step failed');
    try {
      await fn();
    } catch (err) {
      failed = true;
      const shot = join(ARTIFACTS, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
      await mkdir(ARTIFACTS, { recursive: true });
      await page?.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      const context = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-15).join('\n  ')}` : '';
      err.message = `step "${name}" failed at ${page?.url() ?? '(no page)'}: ${err.message}\nScreenshot: ${shot}${context}`;
      throw err;
    }
  });
}

const visible = (locator) => locator.waitFor({ state: 'visible', timeout: STEP_MS });

/** The signed-in shell, recognised by the conversations pane and the user's display name. */
async function expectShell() {
  await visible(page.getByRole('navigation', { name: 'Conversations' }));
  await visible(page.getByText(account.displayName, { exact: true }));
  await visible(page.getByRole('button', { name: 'Account menu' }));
}

async function expectSignIn() {
  await visible(page.getByRole('heading', { level: 1 }));
  await visible(page.getByLabel('Username', { exact: true }));
  await visible(page.getByLabel('Password', { exact: true }));
  await visible(page.getByRole('button', { name: 'Sign in', exact: true }));
}

/** A fresh browser profile (own cookie jar) whose traffic stays on this machine. */
async function openBrowserContext() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'no-preference' });
  await ctx.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || LOOPBACK.has(url.hostname)) return route.continue();
    diagnostics.push(`blocked non-loopback request ${url.href}`);
    return route.abort('blockedbyclient');
  });
  const p = await ctx.newPage();
  p.setDefaultTimeout(STEP_MS);
  p.setDefaultNavigationTimeout(STEP_MS);
  p.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 401/.test(msg.text())) diagnostics.push(`console: ${msg.text()}`);
  });
  p.on('pageerror', (err) => diagnostics.push(`page error: ${err.message}`));
  p.on('response', (res) => {
    if (res.status() >= 500) diagnostics.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return { context: ctx, page: p };
}

async function signInAs(p) {
  await p.getByLabel('Username', { exact: true }).fill(account.username);
  await p.getByLabel('Password', { exact: true }).fill(account.password);
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function screenshotTo(name) {
  const dir = process.env.NEXUS_E2E_SCREENSHOTS;
  if (!dir) return;
  await page.waitForTimeout(600); // let entrance animations settle
  await page.screenshot({ path: join(dir, name) });
}

describe('web client shell', () => {
  before(async () => {
    if (!baseUrl && process.env.NEXUS_E2E_FAKE === '1') {
      const { startFakeServer } = await import('./dev-fake-server.mjs');
      fake = await startFakeServer({ port: 0, quiet: true });
      baseUrl = fake.url;
    }
    assert.ok(baseUrl, 'Set NEXUS_URL to the server under test, e.g. NEXUS_URL=http://127.0.0.1:8080 npm run e2e');
    assert.ok(LOOPBACK.has(new URL(baseUrl).hostname), `NEXUS_URL must be a loopback address, got ${baseUrl}`);

    browser = await chromium.launch({
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
      ],
      timeout: STEP_MS,
    });
    ({ context, page } = await openBrowserContext());
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await fake?.close();
  });

  step('opens the app on the sign-in screen', async () => {
    const res = await page.goto(baseUrl, { waitUntil: 'domcontentloaded' });
    assert.ok(res?.ok(), `GET ${baseUrl} answered ${res?.status()}`);
    await expectSignIn();
    await screenshotTo('shell-signin.png');
  });

  step('registers a fresh user through the UI', async () => {
    const info = await (await page.request.get(`${baseUrl}/api/v1/server`, { timeout: STEP_MS })).json();
    assert.notEqual(info.registration, 'closed', 'the server under test must allow registration');
    if (info.registration === 'invite') {
      assert.ok(process.env.NEXUS_INVITE_CODE, 'registration is "invite": set NEXUS_INVITE_CODE');
    }

    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.getByLabel('Display name', { exact: true }).fill(account.displayName);
    await page.getByLabel('Username', { exact: true }).fill(account.username);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    if (info.registration === 'invite') {
      await page.getByLabel('Invite code', { exact: true }).fill(process.env.NEXUS_INVITE_CODE);
    }
    await page.getByRole('button', { name: 'Create account', exact: true }).click();

    await expectShell();
    await visible(page.getByRole('heading', { name: 'Select a conversation' }));
    await visible(page.getByText(`@${account.username}`, { exact: true }));
  });

  step('keeps the refresh token in an HttpOnly cookie, not in page storage', async () => {
    const cookies = await context.cookies(`${baseUrl}/api/v1/auth/refresh`);
    const refresh = cookies.find((c) => c.name === 'nexus_refresh');
    assert.ok(refresh, `no nexus_refresh cookie for /api/v1/auth (cookies: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
    assert.equal(refresh.httpOnly, true, 'nexus_refresh must be HttpOnly');
    assert.equal(refresh.sameSite, 'Strict', 'nexus_refresh must be SameSite=Strict');
    assert.equal(refresh.path, '/api/v1/auth', 'nexus_refresh must be scoped to Path=/api/v1/auth');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.equal(stored, '{}{}', 'nothing should be kept in web storage');
  });

  step('stays signed in after a reload', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await expectShell();
    await screenshotTo('shell-home.png');
  });

  step('fits a 375 px wide screen', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await expectShell();
    // The two-pane layout animates into the one-screen layout; once settled, nothing may
    // stick out sideways.
    const settled = await page
      .waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth, null, { timeout: 3000 })
      .then(() => true, () => false);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(settled && overflow <= 0, `the page scrolls sideways by ${overflow}px at 375px`);
    await page.setViewportSize({ width: 1280, height: 800 });
    await expectShell();
  });

  step('signs out from the account menu', async () => {
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
    await expectSignIn();
    // The cookie is gone: a reload does not bring the session back.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await expectSignIn();
  });

  step('signs back in', async () => {
    await signInAs(page);
    await expectShell();
  });

  step('signs out everywhere, ending the session of another browser too', async () => {
    const other = await openBrowserContext();
    try {
      await other.page.goto(baseUrl, { waitUntil: 'domcontentloaded' });
      await visible(other.page.getByLabel('Username', { exact: true }));
      await signInAs(other.page);
      await visible(other.page.getByRole('button', { name: 'Account menu' }));

      await page.getByRole('button', { name: 'Account menu' }).click();
      await page.getByRole('menuitem', { name: 'Sign out everywhere', exact: true }).click();
      await expectSignIn();

      // The other browser's refresh cookie was revoked: reloading lands on sign-in.
      await other.page.reload({ waitUntil: 'domcontentloaded' });
      await visible(other.page.getByRole('button', { name: 'Sign in', exact: true }));
      assert.equal(await other.page.getByRole('button', { name: 'Account menu' }).count(), 0);
    } finally {
      await other.context.close();
    }
  });
});
