#!/usr/bin/env node
/**
 * Screenshots of the chat for docs/screenshots/: the conversation list and a lively group
 * conversation, at 1280×800 and 375×812, dark and light.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run screenshots
 *   NEXUS_E2E_FAKE=1 npm run screenshots          # against the in-memory fake server
 *
 * It seeds its own data through the API (five fresh users with a random suffix, a group,
 * direct chats, receipts, presence and someone typing), so it can be re-run against a real
 * server. Env: NEXUS_URL, NEXUS_E2E_FAKE, CHROMIUM, NEXUS_INVITE_CODE,
 * NEXUS_SCREENSHOTS_DIR (default ../docs/screenshots).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, sleep, suffix, screenshotTo, SCREENSHOT_MAX_BYTES } from './lib.mjs';

const OUT = resolve(process.env.NEXUS_SCREENSHOTS_DIR ?? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)));
const MAX_BYTES = SCREENSHOT_MAX_BYTES;

const server = await serverUnderTest();
const base = server.url;
const s = suffix();
const diagnostics = [];
let browser;
const bots = [];

try {
  // ---- people ----
  const [alice, bob, carol, dan, erin] = await Promise.all(
    [
      ['alice', 'Alice Martin'],
      ['bob', 'Bob Chen'],
      ['carol', 'Carol Diaz'],
      ['dan', 'Dan Okafor'],
      ['erin', 'Erin Walsh'],
    ].map(([u, name]) => Bot.register(base, `${u}_${s}`, name)),
  );
  bots.push(alice, bob, carol, dan, erin);

  /** Posts in order: each message is stored before the next is sent. */
  const say = async (bot, conversation, body) => {
    const before = (await bot.messages(conversation.id, '?limit=1'))[0]?.seq ?? 0;
    await bot.post(conversation.id, body);
    await bot.waitForCount(conversation.id, before + 1);
  };

  // ---- older direct chats, oldest activity first ----
  const withDan = await alice.direct(dan.user.id);
  await say(dan, withDan, 'Thanks for the review! Merged 🚀');
  await say(alice, withDan, 'Nice work 👏');
  await dan.read(withDan.id, 2);

  const withErin = await alice.direct(erin.user.id);
  await say(erin, withErin, 'Are we still on for Thursday?');
  await say(alice, withErin, 'Yes — 7 pm at the usual place.');
  await erin.read(withErin.id, 2);

  const withBob = await alice.direct(bob.user.id);
  await say(bob, withBob, 'Did you see the release notes? https://nexus.example/releases/0.2');
  await say(alice, withBob, 'Just now — the new receipts look great ✨');
  await bob.read(withBob.id, 2);

  const withCarol = await alice.direct(carol.user.id);
  await say(alice, withCarol, 'Lunch tomorrow?');
  await say(carol, withCarol, 'Sure! 12:30?');
  await say(carol, withCarol, 'I can book a table 🍜');

  // ---- the lively group, most recent ----
  const trip = await alice.group('Weekend trip 🏔️', [bob.user.id, carol.user.id, dan.user.id]);
  await say(carol, trip, 'Okay team, the cabin is booked for Saturday 🎉');
  await say(carol, trip, 'Here is the place: https://example.com/cabins/alpine-lodge');
  await say(bob, trip, 'Amazing!! Who is driving?');
  await say(alice, trip, 'I can take four people in my car 🚗');
  await say(alice, trip, 'Leaving at 8:00 sharp.\nBring snacks and warm socks 🧦');
  await say(dan, trip, '🙌');
  await say(bob, trip, 'I will bring the board games');
  await say(alice, trip, 'Perfect. See you all on Saturday!');
  const last = await alice.waitForCount(trip.id, 8);
  await Promise.all([bob.read(trip.id, last), carol.read(trip.id, last), dan.read(trip.id, last - 1)]);

  // ---- presence and typing: bob and carol are online; bob types in the group, erin to alice ----
  await Promise.all([bob.connect(), carol.connect(), erin.connect()]);
  const typing = setInterval(() => {
    bob.send({ type: 'typing.start', conversation_id: trip.id });
    erin.send({ type: 'typing.start', conversation_id: withErin.id });
  }, 1500);
  bob.send({ type: 'typing.start', conversation_id: trip.id });
  erin.send({ type: 'typing.start', conversation_id: withErin.id });

  // ---- the browser ----
  await mkdir(OUT, { recursive: true });
  browser = await launchBrowser();
  const { context, page } = await openContext(browser, { diagnostics, name: 'alice' });
  await signInContext(context, base, alice);

  const shots = [];
  for (const scheme of ['dark', 'light']) {
    for (const [device, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['mobile', { width: 375, height: 812 }],
    ]) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await page.setViewportSize(viewport);

      await page.goto(base, { waitUntil: 'domcontentloaded' });
      await page.getByRole('link', { name: /Weekend trip/ }).waitFor();
      await page.getByText('Erin Walsh is typing…').waitFor();
      await page.getByText('Bob Chen is typing…').waitFor();
      await sleep(700);
      shots.push(await shoot(page, `list-${device}-${scheme}.png`));

      await page.getByRole('link', { name: /Weekend trip/ }).click();
      await page.getByRole('log').getByText('Perfect. See you all on Saturday!').waitFor();
      await page.getByText(/is typing/).first().waitFor();
      await page.getByText(/Seen by/).waitFor();
      // Leave the composer unfocused and let the list settle at the bottom.
      await page.getByRole('log').focus();
      await page.locator(':focus').evaluate((el) => el.blur());
      await sleep(700);
      shots.push(await shoot(page, `chat-${device}-${scheme}.png`));
    }
  }
  clearInterval(typing);

  for (const { file, bytes } of shots) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KB`);
  const big = shots.filter((x) => x.bytes > MAX_BYTES);
  if (big.length) throw new Error(`over ${MAX_BYTES / 1024} KB: ${big.map((b) => b.file).join(', ')}`);
  if (diagnostics.length) console.warn(diagnostics.join('\n'));
} finally {
  for (const b of bots) b.close();
  await browser?.close().catch(() => undefined);
  await server.close();
}

function shoot(page, file) {
  return screenshotTo(page, OUT, file);
}
