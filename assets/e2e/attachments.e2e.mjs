/**
 * End-to-end: images in the chat, in headless Chromium, against a running Nexus server.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e
 *
 * alice and bob (fresh bots with a direct chat) sign in in two browser profiles. alice
 * attaches an image with the button (its progress bar appears, then it is uploaded) and
 * sends it with a caption; a file that is not an image is refused with an inline error;
 * she pastes an image and sends it alone, then drops two at once (a grid). bob sees them
 * all, opens the lightbox, zooms with the wheel and pans by dragging (the transform
 * changes), moves to the next image with → and closes it with Esc. Then on a 375 px
 * phone with touch: the lightbox opens, fits the screen, zooms with a two-finger pinch and
 * closes with its button. The test images are PNGs made here (e2e/png.mjs).
 *
 * A server without message attachments (a message with `attachments` refused, or stored
 * without them) skips the suite and says so. Env as for chat.e2e.mjs.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, STEP_MS, suffix, until } from './lib.mjs';
import { gradientPng } from './png.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let server;
let browser;
let unsupported = null;
const diagnostics = [];
const pages = new Map();

function steps() {
  let failed = false;
  return (name, fn, timeoutMs = STEP_MS * 3) =>
    it(name, { timeout: timeoutMs + 5_000 }, async (t) => {
      if (unsupported) return t.skip(unsupported);
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn();
      } catch (err) {
        failed = true;
        await mkdir(ARTIFACTS, { recursive: true });
        const shots = [];
        for (const [who, page] of pages) {
          const shot = join(ARTIFACTS, `attachments-${name.replace(/[^a-z0-9]+/gi, '-')}-${who}.png`);
          if (await page.screenshot({ path: shot, fullPage: true }).then(() => true, () => false)) shots.push(shot);
        }
        const said = diagnostics.length ? `\nBrowser said:\n  ${diagnostics.slice(-20).join('\n  ')}` : '';
        err.message = `step "${name}" failed: ${err.message}\nScreenshots: ${shots.join(', ') || 'none'}${said}`;
        throw err;
      }
    });
}

const visible = (locator, timeout = STEP_MS) => locator.waitFor({ state: 'visible', timeout });

/** Uploads a PNG as a bot and posts it: does this server carry attachments on messages? */
async function probe(a, b) {
  const form = new FormData();
  form.append('file', new Blob([gradientPng(8, 8)], { type: 'image/png' }), 'probe.png');
  const up = await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${a.token}` }, body: form });
  if (up.status !== 201) return `POST /uploads answered ${up.status}`;
  const { id } = await up.json();
  const c = await a.direct(b.user.id);
  const res = await fetch(`${server.url}/api/v1/conversations/${c.id}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body: 'probe', attachments: [id] }),
  });
  if (!res.ok) return `a message with attachments was refused (${res.status} ${await res.text()})`;
  const seq = await a.waitForCount(c.id, 1);
  const [m] = await a.messages(c.id, `?after_seq=${seq - 1}`);
  return Array.isArray(m?.attachments) && m.attachments.length === 1 ? null : 'stored messages carry no attachments';
}

before(async () => {
  server = await serverUnderTest();
  const tag = suffix();
  const [a, b] = [await Bot.register(server.url, `probe_a_${tag}`, 'Probe A'), await Bot.register(server.url, `probe_b_${tag}`, 'Probe B')];
  const why = await probe(a, b);
  if (why) {
    unsupported = `this server has no message attachments yet: ${why}`;
    console.log(`# skipping the attachment steps — ${unsupported}`);
    return;
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
});

/** Records in the page whether an upload progress bar showed up (uploads on loopback are quick). */
const watchProgress = (page) =>
  page.evaluate(() => {
    const w = (window.__progress = { seen: 0 });
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="tray-item"] [role="progressbar"]')) w.seen += 1;
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });

const scaleOf = (t) => Number(/scale\(([\d.]+)\)/.exec(t ?? '')?.[1] ?? 1);
const translateOf = (t) => (/translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec(t ?? '') ?? []).slice(1).map(Number);

describe('images in the chat', () => {
  const step = steps();
  const tag = suffix();
  let aliceBot;
  let bobBot;
  let chat;
  let alice;
  let bob;

  const open = async (who, bot, viewport) => {
    const { context, page } = await openContext(browser, { diagnostics, name: who, ...viewport });
    pages.set(who, page);
    await signInContext(context, server.url, bot);
    await page.goto(`${server.url}/?c=${chat.id}`, { waitUntil: 'domcontentloaded' });
    await visible(page.getByRole('textbox', { name: 'Message' }));
    return { context, page };
  };

  step('alice and bob sign in to their chat', async () => {
    aliceBot = await Bot.register(server.url, `alice_${tag}`, `Alice ${tag}`);
    bobBot = await Bot.register(server.url, `bob_${tag}`, `Bob ${tag}`);
    chat = await aliceBot.direct(bobBot.user.id);
    [alice, bob] = await Promise.all([open('alice', aliceBot), open('bob', bobBot)]);
  });

  step('alice attaches an image with the button: a progress bar, then uploaded, then sent', async () => {
    await watchProgress(alice.page);
    const [chooser] = await Promise.all([alice.page.waitForEvent('filechooser'), alice.page.getByRole('button', { name: 'Attach images' }).click()]);
    await chooser.setFiles({ name: 'gradient.png', mimeType: 'image/png', buffer: gradientPng(640, 480) });
    const item = alice.page.getByTestId('tray-item');
    await visible(item);
    await until('the upload to finish', async () => (await item.getAttribute('data-status')) === 'done');
    assert.ok(await alice.page.evaluate(() => window.__progress.seen > 0), 'a progress bar was shown while uploading');

    await alice.page.getByRole('textbox', { name: 'Message' }).fill(`Look at this [${tag}]`);
    await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const mine = alice.page.getByTestId('message').filter({ hasText: `Look at this [${tag}]` });
    await visible(mine.getByTestId('attachment'));
    await until('the message to be stored', async () => (await mine.getAttribute('data-status')) === 'stored');
    assert.equal(await item.count(), 0, 'the tray is empty after sending');

    const theirs = bob.page.getByTestId('message').filter({ hasText: `Look at this [${tag}]` });
    const img = theirs.getByTestId('attachment').locator('img');
    await visible(img);
    await until('bob’s copy to load', () => img.evaluate((el) => el.complete && el.naturalWidth > 0));
  });

  step('a file that is not an image is refused with an inline error', async () => {
    await alice.page.getByTestId('attach-input').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
    const item = alice.page.getByTestId('tray-item');
    await until('the upload to fail', async () => (await item.getAttribute('data-status')) === 'failed');
    await visible(alice.page.getByRole('alert').filter({ hasText: 'notes.png' }));
    await alice.page.getByRole('button', { name: 'Remove notes.png' }).click();
    assert.equal(await item.count(), 0);
  });

  step('alice pastes an image and sends it alone, then drops two at once', async () => {
    const before = await bob.page.getByTestId('attachment').count();
    await alice.page.getByRole('textbox', { name: 'Message' }).evaluate(async (el) => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 300, height: 200 });
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#10b981';
      ctx.fillRect(0, 0, 300, 200);
      const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
      const data = new DataTransfer();
      data.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    const item = alice.page.getByTestId('tray-item');
    await until('the pasted image to upload', async () => (await item.getAttribute('data-status')) === 'done');
    await alice.page.getByRole('button', { name: 'Send message' }).click();
    await until('bob to see the pasted image', async () => (await bob.page.getByTestId('attachment').count()) === before + 1);

    await alice.page.locator('section[aria-labelledby="chat-title"]').evaluate(async (section) => {
      const data = new DataTransfer();
      for (const [name, colour] of [['one.png', '#f59e0b'], ['two.png', '#6366f1']]) {
        const canvas = Object.assign(document.createElement('canvas'), { width: 200, height: 260 });
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = colour;
        ctx.fillRect(0, 0, 200, 260);
        data.items.add(new File([await new Promise((r) => canvas.toBlob(r, 'image/png'))], name, { type: 'image/png' }));
      }
      for (const type of ['dragenter', 'dragover', 'drop']) section.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await until('both dropped images to upload', async () => (await alice.page.locator('[data-testid="tray-item"][data-status="done"]').count()) === 2);
    await alice.page.getByRole('textbox', { name: 'Message' }).fill(`Two more [${tag}]`);
    await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const grid = bob.page.getByTestId('message').filter({ hasText: `Two more [${tag}]` }).getByTestId('attachment');
    await until('bob to see the grid of two', async () => (await grid.count()) === 2);
  });

  step('bob opens the lightbox, zooms with the wheel, pans by dragging, goes to the next image, Esc closes it', async () => {
    const page = bob.page;
    const first = page.getByTestId('message').filter({ hasText: `Look at this [${tag}]` }).getByTestId('attachment');
    await first.click();
    const dialog = page.getByRole('dialog', { name: /^Image 1 of 4/ });
    await visible(dialog);
    const image = page.getByTestId('lightbox-image');
    const transform = () => image.evaluate((el) => el.style.transform);
    assert.equal(scaleOf(await transform()), 1);

    const box = await page.getByTestId('lightbox-stage').boundingBox();
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(cx + 60, cy + 30);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -120);
    await until('the wheel to zoom in', async () => scaleOf(await transform()) > 1.5);
    const zoomed = await transform();

    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 80, cy - 40, { steps: 8 });
    await page.mouse.up();
    const panned = await transform();
    assert.notDeepEqual(translateOf(panned), translateOf(zoomed), `dragging pans (${zoomed} → ${panned})`);
    assert.equal(scaleOf(panned), scaleOf(zoomed), 'panning keeps the scale');

    await page.keyboard.press('ArrowRight');
    await visible(page.getByRole('dialog', { name: /^Image 2 of 4/ }));
    assert.equal(scaleOf(await transform()), 1, 'the next image opens fitted');
    await page.keyboard.press('+');
    await until('+ to zoom in', async () => scaleOf(await transform()) > 1);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached', timeout: STEP_MS });
  });

  step('on a 375 px phone the lightbox fits the screen, pinches to zoom and closes', async () => {
    bob.phone = await open('phone', bobBot, { viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true });
    const page = bob.phone.page;
    const thumb = page.getByTestId('message').filter({ hasText: `Two more [${tag}]` }).getByTestId('attachment').first();
    await visible(thumb);
    await thumb.tap();
    await visible(page.getByRole('dialog', { name: /^Image 3 of 4/ }));
    const image = page.getByTestId('lightbox-image');
    const rect = await image.boundingBox();
    assert.ok(rect.width <= 375 && rect.width > 100, `the image fits the phone (${rect.width} px wide)`);

    const cdp = await bob.phone.context.newCDPSession(page);
    const stage = await page.getByTestId('lightbox-stage').boundingBox();
    const [cx, cy] = [stage.x + stage.width / 2, stage.y + stage.height / 2];
    const fingers = (d) => [
      { x: cx - d, y: cy, id: 1 },
      { x: cx + d, y: cy, id: 2 },
    ];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: fingers(30) });
    for (const d of [45, 60, 80, 100]) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: fingers(d) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await until('the pinch to zoom in', async () => scaleOf(await image.evaluate((el) => el.style.transform)) > 2);

    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).tap();
    await page.getByRole('dialog').waitFor({ state: 'detached', timeout: STEP_MS });
  });

  after(async () => {
    for (const c of [alice?.context, bob?.context, bob?.phone?.context]) await c?.close().catch(() => undefined);
    pages.clear();
  });
});
