#!/usr/bin/env node
/**
 * Screenshots of 1-on-1 calls for docs/screenshots/: the incoming call (1280×800, dark),
 * the video call connected (1280×800 dark, 375×812 light) and the "Missed video call" row a
 * call that nobody answered leaves in the chat (1280×800, light).
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run screenshots:calls
 *
 * Run the server with a short ring timeout (NEXUS_CALLS__RING_TIMEOUT_SECS=3): the first
 * call is left to ring out, which is what writes the missed-call row. WebRTC runs on
 * loopback only, so run the server and this script inside one loopback-only network
 * namespace (scripts/netns, see the README), e.g. from the repository root:
 *
 *   scripts/netns bash -c 'r=$PWD; d=$(mktemp -d); cd $d && NEXUS_SERVER__HOST=127.0.0.1 \
 *     NEXUS_SERVER__PORT=18080 NEXUS_TURN__LISTEN=127.0.0.1:0 NEXUS_CALLS__RING_TIMEOUT_SECS=3 \
 *     NEXUS_LOG__LEVEL=warn /path/to/nexus >server.log 2>&1 & pid=$!; \
 *     for i in $(seq 50); do curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && break; sleep 0.2; done; \
 *     cd $r/assets && NEXUS_URL=http://127.0.0.1:18080 npm run screenshots:calls; s=$?; kill $pid; exit $s'
 *
 * Chromium gets a fake camera and microphone (the green test pattern is the video).
 *
 * It seeds its own data through the API (fresh users with a random suffix and their direct
 * chats), so it can be re-run against the same server. Env: NEXUS_URL, CHROMIUM,
 * NEXUS_INVITE_CODE, NEXUS_SCREENSHOTS_DIR (default ../docs/screenshots).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, sleep, STEP_MS, suffix, screenshotTo, SCREENSHOT_MAX_BYTES, until } from './lib.mjs';
import { MEDIA_ARGS, callButton, callDialog, framesDecoded, incomingDialog, statusOf, waitForStatus as waitForStatusWithin, waitIdle as waitIdleWithin } from './call-page.mjs';

const OUT = resolve(process.env.NEXUS_SCREENSHOTS_DIR ?? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)));
const MAX_BYTES = SCREENSHOT_MAX_BYTES;
/** ICE + DTLS on loopback take well under a second. */
const CONNECT_MS = 20_000;
/** The missed call: the server's ring timeout (3 s for these shots) plus the row arriving. */
const MISSED_MS = 60_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

const waitForStatus = (p, text, timeout = CONNECT_MS) => waitForStatusWithin(p, text, timeout);
const waitIdle = (p) => waitIdleWithin(p, 10_000);

const server = await serverUnderTest();
const base = server.url;
const s = suffix();
const diagnostics = [];
let browser;
const bots = [];

try {
  // ---- people ----
  const [alice, bob, carol, dan] = await Promise.all(
    [
      ['alice', 'Alice Martin'],
      ['bob', 'Bob Chen'],
      ['carol', 'Carol Diaz'],
      ['dan', 'Dan Okafor'],
    ].map(([u, name]) => Bot.register(base, `${u}_${s}`, name)),
  );
  bots.push(alice, bob, carol, dan);

  /** Posts in order: each message is stored before the next is sent. */
  const say = async (bot, conversation, body) => {
    const before = (await bot.messages(conversation.id, '?limit=1'))[0]?.seq ?? 0;
    await bot.post(conversation.id, body);
    await bot.waitForCount(conversation.id, before + 1);
  };

  // ---- a couple of older chats, so the lists are not empty ----
  // (No emoji in these: a headless machine often lacks a colour-emoji font.)
  const aliceDan = await alice.direct(dan.user.id);
  await say(dan, aliceDan, 'Thanks for the review! Merged.');
  await say(alice, aliceDan, 'Nice work!');
  await dan.read(aliceDan.id, 2);

  const bobCarol = await bob.direct(carol.user.id);
  await say(carol, bobCarol, 'Lunch tomorrow?');
  await say(bob, bobCarol, 'Sure! 12:30 at the usual place?');
  await carol.read(bobCarol.id, 2);

  // ---- the conversation the calls happen in, most recent ----
  const chat = await alice.direct(bob.user.id);
  await say(bob, chat, 'Hey! Got a minute to go over the release plan?');
  await say(alice, chat, 'Sure — give me five minutes, then I will call you.');
  await say(bob, chat, 'Perfect, I have the slides open.');
  await say(alice, chat, 'Calling now!');
  const last = await alice.waitForCount(chat.id, 4);
  await Promise.all([alice.read(chat.id, last), bob.read(chat.id, last)]);

  // ---- the browser: alice and bob, each in a profile of their own, the chat open ----
  await mkdir(OUT, { recursive: true });
  browser = await launchBrowser({ args: MEDIA_ARGS });
  const open = async (bot, name, peer) => {
    const { context, page } = await openContext(browser, {
      diagnostics,
      name,
      viewport: DESKTOP,
      colorScheme: 'dark',
      reducedMotion: 'reduce',
    });
    await context.grantPermissions(['camera', 'microphone'], { origin: base });
    await signInContext(context, base, bot);
    await page.goto(`${base}/?c=${chat.id}`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('heading', { level: 2, name: peer.user.display_name }).waitFor({ state: 'visible' });
    await page.getByRole('log').getByText('Calling now!').waitFor();
    return { name, page };
  };
  const a = await open(alice, 'alice', bob);
  const b = await open(bob, 'bob', alice);
  // The call buttons are enabled once the gateway socket is open.
  await Promise.all([a, b].map((p) => until(`${p.name}'s call button`, () => callButton(p).isEnabled())));

  const shots = [];

  // ---- 1. a call nobody answers: bob's incoming-call screen, then the missed-call row ----
  await callButton(a).click();
  await callDialog(a).waitFor({ state: 'visible' });
  await incomingDialog(b).waitFor({ state: 'visible' });
  await until('"video call" on bob’s incoming screen', async () => /video call/i.test((await statusOf(b)) ?? ''), 2_000);
  await sleep(350); // the fade-in
  shots.push(await shoot(b.page, 'call-incoming-desktop-dark.png'));

  // The server ends it as missed after its ring timeout and writes the row into the chat.
  await b.page.getByTestId('call-record').filter({ hasText: 'Missed video call' }).waitFor({ state: 'visible', timeout: MISSED_MS });
  await Promise.all([waitIdle(a), waitIdle(b)]);
  await b.page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await settle(b.page);
  shots.push(await shoot(b.page, 'call-missed-desktop-light.png'));

  // ---- 2. a call bob takes: alice's in-call view with video both ways ----
  await callButton(a).click();
  await incomingDialog(b).waitFor({ state: 'visible' });
  await incomingDialog(b).getByRole('button', { name: 'Accept call' }).click();
  await Promise.all([waitForStatus(a, 'Connected'), waitForStatus(b, 'Connected')]);
  for (const p of [a, b]) {
    await until(`${p.name} decoding video frames`, async () => (await framesDecoded(p)) > 0, CONNECT_MS);
  }
  await a.page.getByTestId('call-quality').waitFor({ state: 'visible', timeout: CONNECT_MS });
  await a.page.getByTestId('local-video').waitFor({ state: 'visible' });
  await until('both videos playing on alice’s call screen', () => videosPlaying(a), CONNECT_MS);
  // A few seconds on the clock look more like a call than 00:00.
  await until('the call timer past 00:04', async () => {
    const m = /^(\d\d):(\d\d)$/.exec((await a.page.getByTestId('call-timer').textContent()) ?? '');
    return m && Number(m[1]) * 60 + Number(m[2]) >= 4;
  }, CONNECT_MS);
  shots.push(await shoot(a.page, 'call-active-desktop-dark.png'));

  await a.page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await a.page.setViewportSize(PHONE);
  await sleep(500);
  await until('both videos playing on the phone layout', () => videosPlaying(a), CONNECT_MS);
  await a.page.getByTestId('call-quality').waitFor({ state: 'visible' });
  await waitForStatus(a, 'Connected', 1_000);
  await sleep(700);
  shots.push(await shoot(a.page, 'call-active-mobile-light.png'));

  await callDialog(a).getByRole('button', { name: 'Hang up' }).click();
  await Promise.all([waitIdle(a), waitIdle(b)]);

  for (const { file, bytes } of shots) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KB`);
  const big = shots.filter((x) => x.bytes > MAX_BYTES);
  if (big.length) throw new Error(`over ${MAX_BYTES / 1024} KB: ${big.map((x) => x.file).join(', ')}`);
  if (diagnostics.length) console.warn(diagnostics.join('\n'));
} finally {
  for (const x of bots) x.close();
  await browser?.close().catch(() => undefined);
  await server.close();
}

/** Both <video> elements of the call screen show moving pictures. */
function videosPlaying(p) {
  return p.page.evaluate(async () => {
    const els = ['remote-video', 'local-video'].map((id) => document.querySelector(`[data-testid="${id}"]`));
    if (els.some((el) => !el || el.videoWidth === 0 || el.paused)) return false;
    const before = els.map((el) => el.currentTime);
    await new Promise((r) => setTimeout(r, 300));
    return els.every((el, i) => el.currentTime > before[i]);
  });
}

/** The chat at rest: composer unfocused, the list scrolled to the bottom. */
async function settle(page) {
  await page.getByRole('log').focus();
  await page.locator(':focus').evaluate((el) => el.blur());
  await sleep(700);
}

function shoot(page, file) {
  return screenshotTo(page, OUT, file);
}
