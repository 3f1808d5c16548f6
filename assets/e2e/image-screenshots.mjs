#!/usr/bin/env node
/**
 * Screenshots of images in the chat for docs/screenshots/: a group conversation with a
 * grid of photos and a captioned one, and the lightbox, at 1280×800 (dark) and 375×812
 * (light).
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run screenshots:images
 *
 * It seeds its own data through the API (four fresh users, a group, images made here by
 * e2e/png.mjs), so it can be re-run against a real server. Env as for screenshots.mjs.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, sleep, suffix, screenshotTo, SCREENSHOT_MAX_BYTES } from './lib.mjs';
import { gradientPng } from './png.mjs';

const OUT = resolve(process.env.NEXUS_SCREENSHOTS_DIR ?? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)));

const server = await serverUnderTest();
const base = server.url;
const s = suffix();
const diagnostics = [];
let browser;
const bots = [];

try {
  const [alice, bob, carol, dan] = await Promise.all(
    [
      ['alice', 'Alice Martin'],
      ['bob', 'Bob Chen'],
      ['carol', 'Carol Diaz'],
      ['dan', 'Dan Okafor'],
    ].map(([u, name]) => Bot.register(base, `${u}_${s}`, name)),
  );
  bots.push(alice, bob, carol, dan);

  const say = async (bot, c, body, images = []) => {
    const before = (await bot.messages(c.id, '?limit=1'))[0]?.seq ?? 0;
    if (images.length) {
      const ids = [];
      for (const [i, img] of images.entries()) ids.push((await bot.upload(img, `photo-${i + 1}.png`)).id);
      await bot.postImages(c.id, body, ids);
    } else {
      await bot.post(c.id, body);
    }
    await bot.waitForCount(c.id, before + 1);
  };

  const trip = await alice.group('Weekend trip 🏔️', [bob.user.id, carol.user.id, dan.user.id]);
  await say(carol, trip, 'We made it to the cabin! 🎉');
  await say(carol, trip, '', [
    gradientPng(1600, 1200, [56, 189, 248], [30, 64, 175]),
    gradientPng(1200, 1200, [251, 191, 36], [220, 38, 38]),
    gradientPng(1200, 1200, [52, 211, 153], [15, 118, 110]),
  ]);
  await say(bob, trip, 'That view 😍');
  await say(alice, trip, 'Sunset from the porch, no filter', [gradientPng(1600, 1000, [249, 115, 22], [126, 34, 206])]);
  await say(dan, trip, 'Saving these for the album 📸');
  const last = await alice.waitForCount(trip.id, 5);
  await Promise.all([bob.read(trip.id, last), carol.read(trip.id, last), dan.read(trip.id, last)]);

  await mkdir(OUT, { recursive: true });
  browser = await launchBrowser();
  const { context, page } = await openContext(browser, { diagnostics, name: 'alice' });
  await signInContext(context, base, alice);

  const shots = [];
  for (const [device, viewport, scheme] of [
    ['desktop', { width: 1280, height: 800 }, 'dark'],
    ['mobile', { width: 375, height: 812 }, 'light'],
  ]) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    await page.setViewportSize(viewport);
    await page.goto(`${base}/?c=${trip.id}`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('log').getByText('Saving these for the album').waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="attachment"] img')].every((i) => i.complete && i.naturalWidth > 0));
    await page.getByRole('log').focus();
    await page.locator(':focus').evaluate((el) => el.blur());
    await sleep(700);
    shots.push(await screenshotTo(page, OUT, `chat-images-${device}-${scheme}.png`));

    await page.getByTestId('message').filter({ hasText: 'Sunset from the porch' }).getByTestId('attachment').click();
    await page.getByRole('dialog').waitFor();
    await sleep(700);
    shots.push(await screenshotTo(page, OUT, `lightbox-${device}-${scheme}.png`));
    await page.keyboard.press('Escape');
  }

  for (const { file, bytes } of shots) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KB`);
  const big = shots.filter((x) => x.bytes > SCREENSHOT_MAX_BYTES);
  if (big.length) throw new Error(`over ${SCREENSHOT_MAX_BYTES / 1024} KB: ${big.map((b) => b.file).join(', ')}`);
  if (diagnostics.length) console.warn(diagnostics.join('\n'));
} finally {
  for (const b of bots) b.close();
  await browser?.close().catch(() => undefined);
  await server.close();
}
