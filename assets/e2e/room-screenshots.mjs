#!/usr/bin/env node
/**
 * Screenshots of a four-person group call for docs/screenshots/: the "Call in progress"
 * banner (1280×800, light), the call grid (1280×800 dark, 375×812 phone) and a screen
 * share in the spotlight (1280×800, dark).
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run screenshots:rooms
 *
 * WebRTC runs on loopback only, so run the server and this script inside one loopback-only
 * network namespace (scripts/netns), e.g. from the repository root:
 *
 *   scripts/netns bash -c 'r=$PWD; d=$(mktemp -d); cd $d && NEXUS_SERVER__HOST=127.0.0.1 \
 *     NEXUS_SERVER__PORT=18080 NEXUS_TURN__LISTEN=127.0.0.1:0 NEXUS_LOG__LEVEL=warn \
 *     /path/to/nexus >server.log 2>&1 & pid=$!; \
 *     for i in $(seq 50); do curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && break; sleep 0.2; done; \
 *     cd $r/assets && NEXUS_URL=http://127.0.0.1:18080 npm run screenshots:rooms; s=$?; kill $pid; exit $s'
 *
 * Chromium gets a fake camera and microphone (the green test pattern is the video) and an
 * animated canvas as the screen. It seeds its own data through the API (fresh users with a
 * random suffix and their group), so it can be re-run against the same server. Env:
 * NEXUS_URL, CHROMIUM, NEXUS_INVITE_CODE, NEXUS_SCREENSHOTS_DIR (default ../docs/screenshots).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot, launchBrowser, openContext, serverUnderTest, signInContext, sleep, suffix, screenshotTo, SCREENSHOT_MAX_BYTES, until } from './lib.mjs';
import { MEDIA_ARGS } from './call-page.mjs';
import { FAKE_SCREEN, joinCall, playingVideos, roomBanner, roomDialog, startCall, videosPresenting, videosShowing, waitForMedia } from './room-page.mjs';

const OUT = resolve(process.env.NEXUS_SCREENSHOTS_DIR ?? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)));
const MEDIA_MS = 45_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

const server = await serverUnderTest();
const base = server.url;
const s = suffix();
const diagnostics = [];
let browser;
const bots = [];

try {
  const people = await Promise.all(
    [
      ['alice', 'Alice Martin'],
      ['bob', 'Bob Chen'],
      ['carol', 'Carol Diaz'],
      ['dan', 'Dan Okafor'],
    ].map(([u, name]) => Bot.register(base, `${u}_${s}`, name)),
  );
  bots.push(...people);
  const [alice, bob, carol, dan] = people;
  const group = await alice.group('Design crew', [bob.user.id, carol.user.id, dan.user.id]);
  const say = async (bot, body) => {
    const before = (await bot.messages(group.id, '?limit=1'))[0]?.seq ?? 0;
    await bot.post(group.id, body);
    await bot.waitForCount(group.id, before + 1);
  };
  await say(bob, 'Standup in five? I have the new mockups.');
  await say(carol, 'Yes! Starting a call.');
  const last = await alice.waitForCount(group.id, 2);
  await Promise.all(people.map((p) => p.read(group.id, last)));

  await mkdir(OUT, { recursive: true });
  browser = await launchBrowser({ args: MEDIA_ARGS });
  const open = async (bot, name, { viewport = DESKTOP, colorScheme = 'dark' } = {}) => {
    const { context, page } = await openContext(browser, { diagnostics, name, viewport, colorScheme, reducedMotion: 'reduce' });
    await context.grantPermissions(['camera', 'microphone'], { origin: base });
    await context.addInitScript(FAKE_SCREEN);
    await signInContext(context, base, bot);
    await page.goto(`${base}/?c=${group.id}`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('heading', { level: 2, name: 'Design crew' }).waitFor({ state: 'visible' });
    return { name, bot, page };
  };
  const others = await Promise.all([open(bob, 'bob'), open(carol, 'carol'), open(dan, 'dan')]);
  const [b, c, d] = others;
  const a = await open(alice, 'alice', { colorScheme: 'light' });
  const shots = [];

  // ---- 1. three in the call; alice sees the banner ----
  await startCall(c, 'video');
  await joinCall(b);
  await joinCall(d);
  await until('alice’s banner counting three', async () => /3 people/.test((await roomBanner(a).textContent({ timeout: 1_000 }).catch(() => '')) ?? ''), MEDIA_MS);
  await sleep(500);
  shots.push(await shoot(a.page, 'room-banner-desktop-light.png'));

  // ---- 2. alice joins: four cameras; bob is muted ----
  await a.page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await joinCall(a);
  await roomDialog(b).getByRole('button', { name: 'Mute microphone' }).click();
  await waitForMedia(a, { video: 3, audio: 3 }, MEDIA_MS);
  await until('every video playing on alice’s call screen', async () => (await playingVideos(a)) >= 4 && (await videosShowing(a)) >= 4, MEDIA_MS);
  await a.page.locator(`[data-user="${bob.user.id}"] [data-testid="badge-muted"]`).waitFor({ state: 'visible', timeout: MEDIA_MS });
  // A few seconds on the clock look more like a call than 00:00.
  await until('the call timer past 00:04', async () => {
    const m = /^(\d\d):(\d\d)$/.exec((await a.page.getByTestId('room-timer').textContent({ timeout: 1_000 }).catch(() => '')) ?? '');
    return m && Number(m[1]) * 60 + Number(m[2]) >= 4;
  }, MEDIA_MS);
  // Headless Chromium paints a new video's frames a little after they decode.
  await sleep(2_000);
  await until('every video showing', async () => (await videosShowing(a)) >= 4 && (await videosPresenting(a)) >= 4, MEDIA_MS);
  shots.push(await shoot(a.page, 'room-grid-desktop-dark.png'));

  // ---- 3. the same call on a phone ----
  await a.page.setViewportSize(PHONE);
  await sleep(800);
  await until('every video playing on the phone layout', async () => (await playingVideos(a)) >= 4 && (await videosShowing(a)) >= 4, MEDIA_MS);
  await sleep(2_000);
  await until('every video presenting', async () => (await videosPresenting(a)) >= 4, MEDIA_MS);
  shots.push(await shoot(a.page, 'room-grid-mobile-dark.png'));

  // ---- 4. carol shares her screen: the spotlight ----
  await a.page.setViewportSize(DESKTOP);
  await roomDialog(c).getByRole('button', { name: 'Share the screen' }).click();
  await a.page.getByTestId('room-spotlight').waitFor({ state: 'visible', timeout: MEDIA_MS });
  await waitForMedia(a, { video: 4, audio: 3 }, MEDIA_MS);
  // The tiles moved into the strip (new <video>s, smaller layers): wait for their pictures.
  await until('the screen share and the strip showing', async () => (await playingVideos(a)) >= 5 && (await videosShowing(a)) >= 5, MEDIA_MS);
  await sleep(2_000);
  await until('every video presenting', async () => (await videosPresenting(a)) >= 5, MEDIA_MS);
  shots.push(await shoot(a.page, 'room-screen-share-desktop-dark.png'));

  for (const p of [a, ...others]) await roomDialog(p).getByRole('button', { name: 'Leave call' }).click();

  for (const { file, bytes } of shots) console.log(`${file}  ${(bytes / 1024).toFixed(0)} KB`);
  const big = shots.filter((x) => x.bytes > SCREENSHOT_MAX_BYTES);
  if (big.length) throw new Error(`over ${SCREENSHOT_MAX_BYTES / 1024} KB: ${big.map((x) => x.file).join(', ')}`);
  if (diagnostics.length) console.warn(diagnostics.join('\n'));
} finally {
  for (const x of bots) x.close();
  await browser?.close().catch(() => undefined);
  await server.close();
}

/**
 * Takes the shot once every camera tile shows its picture, as the screenshot itself has
 * it: headless Chromium sometimes composites a new <video> late, so a shot whose camera
 * tiles are still dark is taken again (up to 8 times).
 */
async function shoot(page, file) {
  for (let attempt = 0; attempt < 8; attempt++) {
    const rects = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="room-tile"][data-source="camera"]')]
        .filter((el) => el.querySelector('video')?.srcObject && !el.querySelector('video').classList.contains('invisible'))
        .map((el) => {
          const r = el.getBoundingClientRect();
          return { x: r.x, y: r.y, w: r.width, h: r.height };
        }),
    );
    if (rects.length === 0 || (await tilesPainted(page, rects))) break;
    await sleep(1_500);
  }
  return screenshotTo(page, OUT, file);
}

/** Whether the upper middle of each camera tile is green in a fresh screenshot (the fake camera's test pattern). */
async function tilesPainted(page, rects) {
  const png = await page.screenshot();
  const helper = await page.context().newPage();
  try {
    return await helper.evaluate(
      async ([data, boxes, scale]) => {
        const img = new Image();
        img.src = `data:image/png;base64,${data}`;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return boxes.every((b) => {
          const x = Math.round((b.x + b.w * 0.3) * scale);
          const y = Math.round((b.y + b.h * 0.25) * scale);
          const d = ctx.getImageData(x, y, Math.max(1, Math.round(b.w * 0.4 * scale)), Math.max(1, Math.round(b.h * 0.3 * scale))).data;
          let r = 0;
          let g = 0;
          let bl = 0;
          for (let i = 0; i < d.length; i += 4) {
            r += d[i];
            g += d[i + 1];
            bl += d[i + 2];
          }
          return g > r + 40 * (d.length / 4) && g > bl + 40 * (d.length / 4);
        });
      },
      [png.toString('base64'), rects, 1],
    );
  } finally {
    await helper.close();
  }
}
