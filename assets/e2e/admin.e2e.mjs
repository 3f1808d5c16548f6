/**
 * End-to-end: the admin page, against a fresh invite-only server with no account yet.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e:admin
 *
 * The first visitor signs up without a code and becomes the administrator; they create an
 * invite link with a note; a second browser opens the link, finds the code filled in and
 * signs up; that member sees no admin entry; the administrator sees who used the invite,
 * then disables the member, whose open page is signed out at once (the socket closes with
 * 4010 and the session cannot be refreshed) and who can no longer sign in.
 *
 * Env: NEXUS_URL (a server with `auth.registration = "invite"` and no accounts; loopback
 * only), CHROMIUM. Screenshots of failed steps go to e2e/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openContext, password, serverUnderTest, STEP_MS, suffix, until } from './lib.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const diagnostics = [];
const pages = new Map();
let server;
let browser;
let failed = false;

const tag = suffix();
const admin = { username: `admin_${tag}`, displayName: `Admin ${tag}`, password: password() };
const dana = { username: `dana_${tag}`, displayName: `Dana ${tag}`, password: password() };
const note = `for Dana ${tag}`;
let invite = { link: '', code: '' };

const visible = (locator, timeout = STEP_MS) => locator.waitFor({ state: 'visible', timeout });

/** One step; after a failure the rest are skipped. Screenshots every page on failure. */
function step(name, fn) {
  it(name, { timeout: STEP_MS * 2 }, async (t) => {
    if (failed) return t.skip('an earlier step failed');
    try {
      await fn();
    } catch (err) {
      failed = true;
      await mkdir(ARTIFACTS, { recursive: true });
      const shots = [];
      for (const [who, page] of pages) {
        const shot = join(ARTIFACTS, `admin-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${who}.png`);
        if (await page.screenshot({ path: shot }).then(() => true, () => false)) shots.push(shot);
      }
      const said = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-20).join('\n  ')}` : '';
      err.message = `step "${name}" failed: ${err.message}\nScreenshots: ${shots.join(', ') || 'none'}${said}`;
      throw err;
    }
  });
}

async function browserFor(name) {
  const { page } = await openContext(browser, { diagnostics, name });
  pages.set(name, page);
  page.on('response', (r) => { if (r.url().includes('/api/')) diagnostics.push(`${name}: ${r.status()} ${r.request().method()} ${r.url()}`); });
  page.on('websocket', (ws) => ws.on('close', () => diagnostics.push(`${name}: ws closed`)));
  return page;
}

async function fillSignUp(page, who) {
  await page.getByLabel('Display name', { exact: true }).fill(who.displayName);
  await page.getByLabel('Username', { exact: true }).fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
}

async function expectShell(page, who) {
  await visible(page.getByRole('navigation', { name: 'Conversations' }));
  await visible(page.getByText(`@${who.username}`, { exact: true }));
}

async function openAdmin(page) {
  await page.getByRole('button', { name: 'Account menu' }).click();
  await page.getByRole('menuitem', { name: /Administration/ }).click();
  await visible(page.getByRole('dialog', { name: 'Administration' }));
}

const tab = (page, name) => page.getByRole('dialog', { name: 'Administration' }).getByRole('tab', { name });

describe('admin page', () => {
  let adminPage;
  let danaPage;

  before(async () => {
    server = await serverUnderTest();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
  });

  step('the first account on an invite-only server signs up without a code', async () => {
    const info = await (await fetch(`${server.url}/api/v1/server`)).json();
    assert.equal(info.registration, 'invite', 'this suite needs an invite-only server');
    assert.equal(info.setup_required, true, 'this suite needs a server with no account yet');
    adminPage = await browserFor('admin');
    await adminPage.goto(server.url, { waitUntil: 'domcontentloaded' });
    await visible(adminPage.getByTestId('setup-hint'));
    assert.equal(await adminPage.getByLabel('Invite code', { exact: true }).count(), 0, 'no invite code is asked for');
    await fillSignUp(adminPage, admin);
    await adminPage.getByRole('button', { name: 'Create account', exact: true }).click();
    await expectShell(adminPage, admin);
  });

  step('the administrator creates an invite link with a note', async () => {
    await openAdmin(adminPage);
    await tab(adminPage, 'Invites').click();
    await adminPage.getByLabel('Note (optional)', { exact: true }).fill(note);
    await adminPage.getByRole('button', { name: 'Create invite link' }).click();
    const field = adminPage.getByLabel('Invite link', { exact: true });
    await visible(field);
    const link = await field.inputValue();
    const match = new RegExp(`^${server.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/invite/([A-Za-z0-9_-]+)$`).exec(link);
    assert.ok(match, `an invite link on this server: ${link}`);
    invite = { link, code: match[1] };
    await visible(adminPage.getByTestId('admin-invite').filter({ hasText: note }));
  });

  step('a new browser opens the link and signs up with the code filled in', async () => {
    danaPage = await browserFor('dana');
    const res = await danaPage.goto(invite.link, { waitUntil: 'domcontentloaded' });
    assert.ok(res?.ok(), `GET ${invite.link} answered ${res?.status()}`);
    const code = danaPage.getByLabel('Invite code', { exact: true });
    await visible(code);
    assert.equal(await code.inputValue(), invite.code);
    await fillSignUp(danaPage, dana);
    await danaPage.getByRole('button', { name: 'Create account', exact: true }).click();
    await expectShell(danaPage, dana);
    assert.equal(new URL(danaPage.url()).pathname, '/', 'the address leaves the invite link');
  });

  step('a member sees no admin entry', async () => {
    await danaPage.getByRole('button', { name: 'Account menu' }).click();
    await visible(danaPage.getByRole('menuitem', { name: /Sign out/ }).first());
    assert.equal(await danaPage.getByRole('menuitem', { name: /Administration/ }).count(), 0);
    await danaPage.keyboard.press('Escape');
  });

  step('the administrator sees who used the invite', async () => {
    await tab(adminPage, 'Users').click();
    await visible(adminPage.getByTestId(`admin-user-${dana.username}`));
    await tab(adminPage, 'Invites').click();
    const row = adminPage.getByTestId('admin-invite').filter({ hasText: note });
    await visible(row.getByTestId('invite-used-by').filter({ hasText: `@${dana.username}` }));
    await visible(row.getByText('Used'));
  });

  step('the server panel shows the figures', async () => {
    await tab(adminPage, 'Server').click();
    await visible(adminPage.getByTestId('server-registration').filter({ hasText: 'Invite only' }));
    await visible(adminPage.getByTestId('server-accounts').filter({ hasText: '2' }));
    const connected = await adminPage.getByTestId('server-connected-users').textContent();
    assert.match(connected ?? '', /^\d+ \(\d+ sockets\)$/u);
  });

  step('disabling a member signs their open page out at once', async () => {
    await tab(adminPage, 'Users').click();
    const started = Date.now();
    await adminPage.getByRole('button', { name: `Disable ${dana.username}`, exact: true }).click();
    await visible(adminPage.getByTestId(`admin-user-${dana.username}`).getByText('Disabled', { exact: true }));
    await visible(danaPage.getByRole('button', { name: 'Sign in', exact: true }), 10_000);
    const took = Date.now() - started;
    assert.ok(took < 10_000, `signed out after ${took} ms`);
    // Signing in again is refused, and says why.
    await danaPage.getByLabel('Username', { exact: true }).fill(dana.username);
    await danaPage.getByLabel('Password', { exact: true }).fill(dana.password);
    await danaPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await until('the refusal', async () => (await danaPage.getByText(/disabled by an administrator/).count()) > 0);
  });
});
