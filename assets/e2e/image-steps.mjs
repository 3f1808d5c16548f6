/**
 * Browser steps for images in the chat, run by chat.e2e.mjs inside its two-person story
 * (alice and bob with their direct chat open), so they need no accounts of their own (the
 * server limits registrations per address and hour).
 *
 * alice attaches an image with the button (its progress bar appears, then it is uploaded)
 * and sends it with a caption; a file that is not an image is refused with an inline
 * error; she pastes an image and sends it alone, then drops two at once (a grid). bob sees
 * them all, opens the lightbox, zooms with the wheel and pans by dragging (the transform
 * changes), moves to the next image with → and closes it with Esc. Then on a 375 px phone
 * with touch: the lightbox opens, fits the screen, zooms with a two-finger pinch and closes
 * with its button. The test images are PNGs made here (png.mjs) or drawn in the page.
 *
 * A server without message attachments (a message with `attachments` refused as an unknown
 * field) skips these steps and says so.
 */
import assert from 'node:assert/strict';
import { openContext, signInContext, STEP_MS, until } from './lib.mjs';
import { gradientPng } from './png.mjs';

const visible = (locator, timeout = STEP_MS) => locator.waitFor({ state: 'visible', timeout });

/**
 * Does this server take `attachments` on messages? Asked without side effects: a post to a
 * conversation that does not exist is `not_found` where the field is known, and
 * `invalid_request` (unknown field) where it is not. Returns null, or why not.
 */
export async function attachmentsUnsupported(baseUrl, person) {
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: person.username, password: person.password }),
  });
  if (!login.ok) return `could not log in to probe (${login.status})`;
  const { access_token } = await login.json();
  const nobody = '00000000-0000-7000-8000-000000000000';
  const res = await fetch(`${baseUrl}/api/v1/conversations/${nobody}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body: 'probe', attachments: [nobody] }),
  });
  if (res.status === 404) return null;
  return `a message with attachments was answered ${res.status} ${await res.text()}`;
}

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

/**
 * Adds the image steps to a suite. `ctx()` gives { server, browser, diagnostics, pages,
 * alice, bob, tag } once the earlier steps have run; each person has `page`, `context`,
 * `username` and `password`.
 */
export function imageSteps(step, ctx) {
  let unsupported;
  let alice;
  let bob;
  let tag;
  let server;

  const openPhone = async (p) => {
    const { browser, diagnostics, pages } = ctx();
    const { context, page } = await openContext(browser, { diagnostics, name: 'phone', viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true });
    pages.set('phone', page);
    await signInContext(context, server.url, { user: { username: p.username }, password: p.password });
    await page.goto(p.page.url(), { waitUntil: 'domcontentloaded' });
    await visible(page.getByRole('textbox', { name: 'Message' }));
    return { context, page };
  };

  const guarded = (name, fn) =>
    step(name, async (t) => {
      ({ alice, bob, tag, server } = ctx());
      if (unsupported === undefined) {
        unsupported = await attachmentsUnsupported(server.url, alice);
        if (unsupported) console.log(`# skipping the image steps — this server has no message attachments: ${unsupported}`);
      }
      if (unsupported) return t.skip(`no message attachments on this server: ${unsupported}`);
      await fn();
    });

  guarded('images: alice attaches an image with the button: a progress bar, then uploaded, then sent', async () => {
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

  guarded('images: a file that is not an image is refused with an inline error', async () => {
    await alice.page.getByTestId('attach-input').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
    const item = alice.page.getByTestId('tray-item');
    await until('the upload to fail', async () => (await item.getAttribute('data-status')) === 'failed');
    await visible(alice.page.getByRole('alert').filter({ hasText: 'notes.png' }));
    await alice.page.getByRole('button', { name: 'Remove notes.png' }).click();
    assert.equal(await item.count(), 0);
  });

  guarded('images: alice pastes an image and sends it alone, then drops two at once', async () => {
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

  guarded('images: bob opens the lightbox, zooms with the wheel, pans by dragging, goes to the next image, Esc closes it', async () => {
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

  guarded('images: on a 375 px phone the lightbox fits the screen, pinches to zoom and closes', async () => {
    bob.phone = await openPhone(bob);
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

  guarded('images: the phone closes', async () => {
    await bob.phone?.context.close();
    ctx().pages.delete('phone');
  });
}
