#!/usr/bin/env node
/**
 * Screenshots of the notification UI for docs/screenshots/: the opt-in banner, a
 * conversation's mute menu (with a muted conversation in the list) and the notification
 * settings in the account menu, at 1280×800 and 375×812.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run screenshots:notifications
 *   NEXUS_E2E_FAKE=1 npm run screenshots:notifications      # against the in-memory fake
 *
 * Seeds its own users and conversations through the API. Env: NEXUS_URL, NEXUS_E2E_FAKE,
 * CHROMIUM, NEXUS_INVITE_CODE, NEXUS_SCREENSHOTS_DIR (default ../docs/screenshots).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, sleep, suffix, screenshotTo, SCREENSHOT_MAX_BYTES } from './lib.mjs';

const OUT = resolve(process.env.NEXUS_SCREENSHOTS_DIR ?? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)));

const server = await serverUnderTest();
const base = server.url;
const s = suffix();
const diagnostics = [];
let browser;

try {
  const [alice, bob, carol, dan] = await Promise.all(
    [
      ['alice', 'Alice Martin'],
      ['bob', 'Bob Chen'],
      ['carol', 'Carol Diaz'],
      ['dan', 'Dan Okafor'],
    ].map(([u, name]) => Bot.register(base, `${u}_${s}`, name)),
  );
  const say = async (bot, c, body) => {
    const before = (await bot.messages(c.id, '?limit=1'))[0]?.seq ?? 0;
    await bot.post(c.id, body);
    await bot.waitForCount(c.id, before + 1);
  };
  const withDan = await alice.direct(dan.user.id);
  await say(dan, withDan, 'Standup moved to 10:00');
  const news = await dan.group('Company news 📣', [alice.user.id, bob.user.id, carol.user.id]);
  await say(dan, news, 'Reminder: the office is closed on Friday');
  await say(carol, news, 'Lunch menu for next week is up');
  await say(bob, news, 'Parking lot B is being repainted');
  // Muted until unmuted: still counted, in grey.
  await alice.call('PUT', `/notifications/mutes/${news.id}`, { until: null });
  const withBob = await alice.direct(bob.user.id);
  await say(bob, withBob, 'Can you review my PR today?');
  const trip = await alice.group('Weekend trip 🏔️', [bob.user.id, carol.user.id]);
  await say(carol, trip, 'The cabin is booked for Saturday 🎉');
  await say(bob, trip, 'Who is driving?');

  await mkdir(OUT, { recursive: true });
  browser = await launchBrowser();
  const shots = [];
  for (const [device, viewport, scheme] of [
    ['desktop', { width: 1280, height: 800 }, 'light'],
    ['mobile', { width: 375, height: 812 }, 'dark'],
  ]) {
    // A fresh profile each time: the banner's counters live in this browser.
    const { context, page } = await openContext(browser, { diagnostics, name: `alice-${device}` });
    await signInContext(context, base, alice);
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    await page.setViewportSize(viewport);
    await page.goto(base, { waitUntil: 'domcontentloaded' });
    const back = () => (device === 'mobile' ? page.getByRole('button', { name: 'Back to conversations' }).click() : Promise.resolve());

    // Two conversations opened: the banner is due.
    await page.getByRole('link', { name: /Bob Chen/ }).click();
    await page.getByRole('log').getByText('Can you review my PR today?').waitFor();
    await back();
    await page.getByRole('link', { name: /Weekend trip/ }).click();
    await page.getByRole('log').getByText('Who is driving?').waitFor();
    if (device === 'mobile') await back();
    await page.getByText('Get notified when Nexus is closed').waitFor();
    await sleep(600);
    shots.push(await screenshotTo(page, OUT, `notify-optin-${device}-${scheme}.png`));

    // The mute menu of a group.
    if (device === 'mobile') await page.getByRole('link', { name: /Weekend trip/ }).click();
    await page.getByRole('button', { name: 'Group options' }).click();
    await page.getByRole('menuitem', { name: /Mute for 1 hour/ }).waitFor();
    await sleep(400);
    shots.push(await screenshotTo(page, OUT, `notify-mute-menu-${device}-${scheme}.png`));
    await page.keyboard.press('Escape');

    // The settings in the account menu (do-not-disturb on).
    await alice.call('PATCH', '/notifications/settings', { dnd_until: new Date(Date.now() + 12 * 3600_000).toISOString() });
    await page.reload({ waitUntil: 'domcontentloaded' });
    if (device === 'mobile') await page.getByRole('button', { name: 'Back to conversations' }).click();
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitemcheckbox', { name: /Do not disturb/ }).waitFor();
    await sleep(400);
    shots.push(await screenshotTo(page, OUT, `notify-settings-${device}-${scheme}.png`));
    await alice.call('PATCH', '/notifications/settings', { dnd_until: null });
    await context.close();
  }
  for (const { file, bytes } of shots) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KB`);
  const big = shots.filter((x) => x.bytes > SCREENSHOT_MAX_BYTES);
  if (big.length) throw new Error(`over ${SCREENSHOT_MAX_BYTES / 1024} KB: ${big.map((b) => b.file).join(', ')}`);
  if (diagnostics.length) console.warn(diagnostics.join('\n'));
} finally {
  await browser?.close().catch(() => undefined);
  await server.close();
}
