#!/usr/bin/env node
/**
 * Screenshots of the conversation features for docs/screenshots/: the hover menu, reactions
 * with the emoji picker, an inline edit, a reply (preview and quoted bubble), the mention
 * autocomplete, the search panel, and the phone layout (a chat, the long-press sheet and
 * the search panel).
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run screenshots:changes
 *   NEXUS_E2E_FAKE=1 npm run screenshots:changes      # against the in-memory fake server
 *
 * It seeds its own data through the API (four fresh users with a random suffix, a group with
 * replies, mentions, reactions, an edit, a deletion and a pin). Env: NEXUS_URL,
 * NEXUS_E2E_FAKE, CHROMIUM, NEXUS_INVITE_CODE, NEXUS_SCREENSHOTS_DIR (default ../docs/screenshots).
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
  const trip = await alice.group('Weekend trip 🏔️', [bob.user.id, carol.user.id, dan.user.id]);

  /** Posts in order (each stored before the next); returns the stored message. */
  const say = async (bot, body, extra = {}) => {
    const before = (await bot.messages(trip.id, '?limit=1'))[0]?.seq ?? 0;
    await bot.call('POST', `/conversations/${trip.id}/messages`, { body, ...extra }, { 'Idempotency-Key': `${s}-${before}-${bot.user.id}` });
    await bot.waitForCount(trip.id, before + 1);
    return (await bot.messages(trip.id, '?limit=1'))[0];
  };
  const react = (bot, m, emoji) => bot.call('PUT', `/conversations/${trip.id}/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);

  const cabin = await say(carol, 'Okay team, the cabin is booked for Saturday 🎉');
  await say(carol, 'It sleeps six and has a sauna. Check-in from 3 pm.');
  const driving = await say(bob, 'Amazing!! Who is driving?');
  await say(alice, `I can take four people in my car 🚗 @${bob.user.username} you are in`, { reply_to: driving.id });
  const snacks = await say(alice, 'Leaving at 8:00 sharp. Bring snacks and warm sock');
  await alice.call('PATCH', `/conversations/${trip.id}/messages/${snacks.id}`, { client_id: `${s}-edit`, body: 'Leaving at 8:00 sharp. Bring snacks and warm socks 🧦' });
  const oops = await say(dan, 'wrong chat, sorry');
  await dan.call('DELETE', `/conversations/${trip.id}/messages/${oops.id}`);
  const games = await say(dan, 'I will bring the board games 🎲');
  await say(bob, `@${carol.user.username} can you send the address?`);
  const address = await say(carol, 'Alpine Lodge, 12 Lake Road. Parking is behind the cabin.', { reply_to: (await bob.messages(trip.id, '?limit=1'))[0].id });
  await alice.call('PUT', `/conversations/${trip.id}/messages/${address.id}/pin`);
  await Promise.all([react(alice, cabin, '🎉'), react(bob, cabin, '🎉'), react(dan, cabin, '🎉'), react(bob, cabin, '❤️')]);
  await Promise.all([react(carol, games, '😂'), react(alice, games, '👍'), react(bob, games, '👍')]);
  const last = (await alice.messages(trip.id, '?limit=1'))[0].seq;
  await Promise.all([bob.read(trip.id, last), carol.read(trip.id, last), dan.read(trip.id, last)]);

  await mkdir(OUT, { recursive: true });
  browser = await launchBrowser();
  const { context, page } = await openContext(browser, { diagnostics, name: 'alice', hasTouch: false });
  await signInContext(context, base, alice);
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  const shots = [];
  const shoot = async (file) => shots.push(await screenshotTo(page, OUT, file));
  // A bubble by its own text (not one that only quotes it).
  const bubble = (text, pg = page) => pg.getByTestId('message').filter({ hasText: text, hasNot: pg.getByTestId('quoted-reply').filter({ hasText: text }) });
  const column = (text) => page.getByTestId('message-column').filter({ has: bubble(text) });
  const settle = () => sleep(500);

  await page.goto(base, { waitUntil: 'domcontentloaded' });
  await page.getByRole('link', { name: /Weekend trip/ }).click();
  await bubble('Parking is behind').waitFor();
  await settle();

  // ---- the hover menu, with "More" open on someone else's message ----
  await bubble('Amazing!! Who is driving?').hover();
  await column('Amazing!! Who is driving?').getByRole('button', { name: 'More actions' }).click();
  await page.getByRole('menuitem', { name: 'Reply' }).waitFor();
  await settle();
  await shoot('changes-hover-menu-desktop.png');
  await page.keyboard.press('Escape');

  // ---- reactions and the picker ----
  await bubble('I will bring the board games').hover();
  await column('I will bring the board games').getByRole('button', { name: 'React', exact: true }).click();
  await page.getByRole('button', { name: 'More reactions' }).click();
  await page.getByRole('gridcell').first().waitFor();
  await settle();
  await shoot('changes-reactions-picker-desktop.png');
  await page.keyboard.press('Escape');

  // ---- an inline edit of my own message ----
  await bubble('Leaving at 8:00 sharp').hover();
  await column('Leaving at 8:00 sharp').getByRole('button', { name: 'More actions' }).click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  const editor = page.getByRole('textbox', { name: 'Edit message' });
  await editor.fill('Leaving at 7:30 sharp — earlier, the roads are icy. Bring snacks and warm socks 🧦');
  await page.mouse.move(5, 400);
  await settle();
  await shoot('changes-inline-edit-desktop.png');
  await editor.press('Escape');

  // ---- a reply: the preview above the composer, quoted replies in the list ----
  await bubble('It sleeps six').hover();
  await column('It sleeps six').getByRole('button', { name: 'Reply' }).click();
  await page.getByTestId('reply-preview').waitFor();
  await page.getByRole('textbox', { name: 'Message' }).fill('Does the sauna need booking?');
  await page.mouse.move(5, 400);
  await settle();
  await shoot('changes-reply-desktop.png');
  await page.getByRole('button', { name: 'Cancel reply' }).click();

  // ---- the mention autocomplete ----
  await page.getByRole('textbox', { name: 'Message' }).fill('');
  await page.getByRole('textbox', { name: 'Message' }).pressSequentially('Thanks @c');
  await page.getByRole('listbox', { name: 'Mention someone' }).waitFor();
  await settle();
  await shoot('changes-mentions-desktop.png');
  await page.keyboard.press('Escape');
  await page.getByRole('textbox', { name: 'Message' }).fill('');

  // ---- the search panel ----
  await page.getByRole('button', { name: 'Search messages' }).click();
  await page.getByRole('searchbox', { name: 'Search for' }).fill('cabin');
  await page.getByTestId('search-result').first().waitFor();
  await settle();
  await shoot('changes-search-desktop.png');
  await page.getByRole('button', { name: 'Close panel' }).click();

  // ---- the phone: the chat, then the long-press sheet ----
  const phone = await openContext(browser, { diagnostics, name: 'alice-phone', viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true });
  await signInContext(phone.context, base, alice);
  const p = phone.page;
  await p.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await p.goto(base, { waitUntil: 'domcontentloaded' });
  await p.getByRole('link', { name: /Weekend trip/ }).click();
  await bubble('Parking is behind', p).waitFor();
  await sleep(700);
  shots.push(await screenshotTo(p, OUT, 'changes-chat-mobile.png'));
  const target = bubble('I will bring the board games', p);
  const box = await target.boundingBox();
  await target.dispatchEvent('pointerdown', { pointerType: 'touch', clientX: box.x + 20, clientY: box.y + 10, isPrimary: true });
  await sleep(650);
  await target.dispatchEvent('pointerup', { pointerType: 'touch', clientX: box.x + 20, clientY: box.y + 10, isPrimary: true });
  await p.getByRole('dialog', { name: 'Message' }).waitFor();
  await sleep(500);
  shots.push(await screenshotTo(p, OUT, 'changes-sheet-mobile.png'));
  await p.keyboard.press('Escape');
  await p.getByRole('dialog', { name: 'Message' }).waitFor({ state: 'detached' });
  await p.getByRole('button', { name: 'Group options' }).click();
  await p.getByRole('menuitem', { name: 'Search messages' }).click();
  await p.getByRole('searchbox', { name: 'Search for' }).fill('cabin');
  await p.getByTestId('search-result').first().waitFor();
  await p.getByRole('searchbox', { name: 'Search for' }).blur();
  await sleep(500);
  shots.push(await screenshotTo(p, OUT, 'changes-search-mobile.png'));

  for (const { file, bytes } of shots) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KB`);
  const big = shots.filter((x) => x.bytes > SCREENSHOT_MAX_BYTES);
  if (big.length) throw new Error(`over ${SCREENSHOT_MAX_BYTES / 1024} KB: ${big.map((b) => b.file).join(', ')}`);
  if (diagnostics.length) console.warn(diagnostics.join('\n'));
} finally {
  for (const b of bots) b.close();
  await browser?.close().catch(() => undefined);
  await server.close();
}
