/**
 * End-to-end: group calls (rooms, through the server's SFU) in the web client against a
 * running Nexus server, in headless Chromium with a fake camera and microphone.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e:rooms
 *
 * Four users (registered through the API) in one group, each in a browser profile of
 * their own with the group open.
 * - "three, then four": alice starts a video call, bob and carol join from the banner;
 *   every page decodes video from each of the others and receives their audio (per
 *   inbound track, `framesDecoded` / `packetsReceived` growing in
 *   `window.__nexusRoom.pc.getStats()`). Dan joins late and receives everyone; everyone
 *   receives him. Bob mutes: the others show his tile muted. Carol shares her screen (an
 *   animated canvas stands in for the screen): it arrives as one more inbound video and
 *   takes the spotlight. Alice leaves: her connection is closed, her tracks stopped, and
 *   the other three keep their media.
 * - "a dropped socket": one page's gateway socket closes; it joins the room again from the
 *   new socket (the server keeps the place for the grace period), with a new connection;
 *   its mute is kept and everyone receives everyone again.
 * - "through the TURN relay": three pages with `window.__nexusIceTransportPolicy =
 *   'relay'`: the selected pair's local candidate is a relay one on every page, everyone
 *   decodes everyone, and the server's `nexus_turn_relayed_bytes_total` went up.
 *
 * Env: NEXUS_URL (loopback only), NEXUS_METRICS_URL, CHROMIUM, NEXUS_INVITE_CODE.
 * On a failure a screenshot of each page goes to e2e/artifacts/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Bot,
  launchBrowser,
  openContext,
  selectedPairTypes,
  serverUnderTest,
  signInContext,
  STEP_MS,
  suffix,
  testWithArtifacts,
  until,
} from './lib.mjs';
import { MEDIA_ARGS } from './call-page.mjs';
import {
  FAKE_SCREEN,
  inbound,
  joinCall,
  leaveCall,
  roomBanner,
  roomDialog,
  startCall,
  tilesOf,
  waitForMedia,
} from './room-page.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
/** ICE + DTLS to the SFU and the first keyframes, with up to four pages on two cores. */
const MEDIA_MS = 45_000;

let server;
let browser;
const diagnostics = [];
const pages = new Map();
const bots = [];

before(async () => {
  server = await serverUnderTest();
  browser = await launchBrowser({ args: MEDIA_ARGS });
});

after(async () => {
  for (const b of bots) b.close();
  await browser?.close().catch(() => undefined);
  await server?.close();
});

/** Runs a test with screenshots and the browser's complaints attached to a failure. */
const test = testWithArtifacts({ it, prefix: 'room', artifacts: ARTIFACTS, pages, diagnostics, timeout: 300_000 });

/** `names.length` fresh users in one group (the first creates it). Returns { people, group }. */
async function crew(names) {
  const tag = suffix();
  const people = await Promise.all(names.map((n) => Bot.register(server.url, `${n}_${tag}`, `${n[0].toUpperCase()}${n.slice(1)} ${tag}`)));
  const group = await people[0].group(`Crew ${tag}`, people.slice(1).map((b) => b.user.id));
  return { people, group };
}

/** Keeps every WebSocket the page opens in window.__e2eSockets, so a test can drop one. */
const CAPTURE_SOCKETS = () => {
  const Real = window.WebSocket;
  window.__e2eSockets = [];
  window.WebSocket = class extends Real {
    constructor(...args) {
      super(...args);
      window.__e2eSockets.push(this);
    }
  };
};

/** Opens the group in a browser profile of its own for `bot` (camera and microphone allowed). */
async function open(bot, name, group, { relay = false, captureSockets = false } = {}) {
  const { context, page } = await openContext(browser, { diagnostics, name });
  pages.set(name, page);
  await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  await context.addInitScript(FAKE_SCREEN);
  if (relay) await context.addInitScript(() => (window.__nexusIceTransportPolicy = 'relay'));
  if (captureSockets) await context.addInitScript(CAPTURE_SOCKETS);
  await signInContext(context, server.url, bot);
  await page.goto(`${server.url}/?c=${group.id}`, { waitUntil: 'domcontentloaded' });
  await page.getByRole('heading', { level: 2, name: group.name }).waitFor({ state: 'visible' });
  return { name, bot, context, page };
}

/** Every page receives video and audio from each of the others. */
async function everyoneReceivesEveryone(ps, extraVideo = 0) {
  await Promise.all(ps.map((p) => waitForMedia(p, { video: ps.length - 1 + extraVideo, audio: ps.length - 1 }, MEDIA_MS)));
}

async function waitTiles(p, n) {
  return until(`${p.name} showing ${n} camera tiles`, async () => {
    const t = await tilesOf(p);
    return t.filter((x) => x.source === 'camera').length === n ? t : false;
  }, MEDIA_MS);
}

/** Sum of a Prometheus counter over all its label sets, or null when the server does not export it. */
async function counter(name) {
  const url = process.env.NEXUS_METRICS_URL ?? `${server.url}/metrics`;
  const res = await fetch(url, { signal: AbortSignal.timeout(STEP_MS) });
  assert.ok(res.ok, `GET ${url}: HTTP ${res.status}`);
  let total = null;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([^\s]+)/);
    if (m && m[1] === name) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

describe('group calls', () => {
  test('three, then four: everyone decodes everyone; mute, screen share, a leave, a late joiner', async () => {
    const { people, group } = await crew(['alice', 'bob', 'carol', 'dan']);
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n, i) => open(people[i], n, group)));

    // alice starts; bob and carol see the banner and join.
    await startCall(alice, 'video');
    for (const p of [bob, carol]) {
      await roomBanner(p).waitFor({ state: 'visible', timeout: MEDIA_MS });
      await until(`${p.name}'s banner counting alice`, async () => /1 person/.test((await roomBanner(p).textContent()) ?? ''));
    }
    await joinCall(bob);
    await joinCall(carol);
    await Promise.all([alice, bob, carol].map((p) => waitTiles(p, 3)));
    await everyoneReceivesEveryone([alice, bob, carol]);

    // A late joiner receives everyone, and everyone receives them.
    const dan = await open(people[3], 'dan', group);
    await until('dan’s banner counting three', async () => /3 people/.test((await roomBanner(dan).textContent({ timeout: 1_000 }).catch(() => '')) ?? ''), MEDIA_MS);
    await joinCall(dan);
    const four = [alice, bob, carol, dan];
    await Promise.all(four.map((p) => waitTiles(p, 4)));
    await everyoneReceivesEveryone(four);

    // Bob mutes: the others see it on his tile.
    await roomDialog(bob).getByRole('button', { name: 'Mute microphone' }).click();
    for (const p of [alice, carol, dan]) {
      await until(`${p.name} showing bob muted`, async () => (await tilesOf(p)).some((t) => t.user === bob.bot.user.id && t.source === 'camera' && t.muted), MEDIA_MS);
      await roomDialog(p).locator(`[data-user="${bob.bot.user.id}"][data-source="camera"] [data-testid="badge-muted"]`).waitFor({ state: 'visible' });
    }
    await roomDialog(bob).getByRole('button', { name: 'Unmute microphone' }).click();

    // Carol shares her screen: one more inbound video for the others, in the spotlight.
    await roomDialog(carol).getByRole('button', { name: 'Share the screen' }).click();
    await roomDialog(carol).getByRole('button', { name: 'Stop sharing the screen' }).waitFor();
    for (const p of [alice, bob, dan]) {
      await p.page.getByTestId('room-spotlight').waitFor({ state: 'visible', timeout: MEDIA_MS });
      await until(`${p.name} showing carol's screen`, async () => (await tilesOf(p)).some((t) => t.user === carol.bot.user.id && t.source === 'screen'), MEDIA_MS);
    }
    await Promise.all([alice, bob, dan].map((p) => waitForMedia(p, { video: 4, audio: 3 }, MEDIA_MS)));

    // Alice leaves: her connection closes and her tracks stop; the other three keep their media.
    await alice.page.evaluate(() => {
      const pc = window.__nexusRoom?.pc;
      window.__e2eHeld = pc ? { pc, tracks: pc.getSenders().map((s) => s.track).filter(Boolean) } : null;
    });
    await leaveCall(alice);
    const held = await alice.page.evaluate(() => ({
      exposed: !!window.__nexusRoom,
      state: window.__e2eHeld?.pc.connectionState ?? null,
      tracks: window.__e2eHeld ? window.__e2eHeld.tracks.map((t) => t.readyState) : [],
    }));
    assert.deepEqual({ exposed: held.exposed, state: held.state }, { exposed: false, state: 'closed' }, 'alice’s room connection is closed');
    assert.ok(held.tracks.length >= 2 && held.tracks.every((s) => s === 'ended'), `alice’s tracks are stopped (${held.tracks})`);
    const rest = [bob, carol, dan];
    await Promise.all(rest.map((p) => waitTiles(p, 3)));
    // Bob and Dan: two cameras and carol's screen; carol: two cameras.
    await Promise.all([waitForMedia(bob, { video: 3, audio: 2 }, MEDIA_MS), waitForMedia(dan, { video: 3, audio: 2 }, MEDIA_MS), waitForMedia(carol, { video: 2, audio: 2 }, MEDIA_MS)]);
    // Alice still sees the call going on, from the banner.
    await until('alice’s banner counting three', async () => /3 people/.test((await roomBanner(alice).textContent({ timeout: 1_000 }).catch(() => '')) ?? ''), MEDIA_MS);

    // Carol stops sharing: the spotlight goes away.
    await roomDialog(carol).getByRole('button', { name: 'Stop sharing the screen' }).click();
    for (const p of [bob, dan]) await p.page.getByTestId('room-grid').waitFor({ state: 'visible', timeout: MEDIA_MS });
    for (const p of rest) await leaveCall(p);
    await until('the call to end', async () => (await roomBanner(alice).count()) === 0, MEDIA_MS);
  });

  test('a dropped socket: the page joins again from the new one, keeps its mute, and the media comes back', async () => {
    const { people, group } = await crew(['hana', 'ivan', 'jude']);
    const [hana, ivan, jude] = await Promise.all(['hana', 'ivan', 'jude'].map((n, i) => open(people[i], n, group, { captureSockets: n === 'hana' })));
    await startCall(hana, 'video');
    await joinCall(ivan);
    await joinCall(jude);
    await everyoneReceivesEveryone([hana, ivan, jude]);
    await roomDialog(hana).getByRole('button', { name: 'Mute microphone' }).click();
    // The gateway socket goes away (the room connection to the SFU does not).
    await hana.page.evaluate(() => {
      window.__e2eOldPc = window.__nexusRoom?.pc;
      window.__e2eSockets.at(-1).close();
    });
    // (In a loopback-only namespace the browser thinks it is offline, so it probes for up to 30 s.)
    await until('hana joining again from a new socket', () => hana.page.evaluate(() => !!window.__nexusRoom && window.__nexusRoom.pc !== window.__e2eOldPc), 75_000);
    assert.equal(await hana.page.evaluate(() => window.__e2eOldPc.connectionState), 'closed', 'the old connection is closed');
    await everyoneReceivesEveryone([hana, ivan, jude]);
    for (const p of [ivan, jude]) {
      await until(`${p.name} still showing hana muted`, async () => (await tilesOf(p)).some((t) => t.user === hana.bot.user.id && t.muted), MEDIA_MS);
    }
    assert.equal((await tilesOf(ivan)).filter((t) => t.source === 'camera').length, 3);
    for (const p of [hana, ivan, jude]) await leaveCall(p);
  });

  test(
    'through the TURN relay: relay candidates, everyone decodes everyone, relayed bytes counted',
    async () => {
      const before = await counter('nexus_turn_relayed_bytes_total');
      assert.notEqual(before, null, 'the server exports nexus_turn_relayed_bytes_total');
      const { people, group } = await crew(['erin', 'frank', 'grace']);
      const ps = await Promise.all(['erin', 'frank', 'grace'].map((n, i) => open(people[i], n, group, { relay: true })));
      await startCall(ps[0], 'video');
      await joinCall(ps[1]);
      await joinCall(ps[2]);
      await everyoneReceivesEveryone(ps);
      for (const p of ps) {
        const types = await until(`${p.name}'s selected candidate pair`, () => selectedPairTypes(p.page, '__nexusRoom'), MEDIA_MS);
        assert.equal(types.local, 'relay', `${p.name}'s selected pair goes through the relay (${JSON.stringify(types)})`);
        assert.ok((await inbound(p)) !== null);
      }
      const grown = await until('nexus_turn_relayed_bytes_total to grow', async () => {
        const now = await counter('nexus_turn_relayed_bytes_total');
        return now !== null && now > before ? now : false;
      }, MEDIA_MS);
      assert.ok(grown > before, `relayed bytes ${before} → ${grown}`);
      for (const p of ps) await leaveCall(p);
    },
    { skip: process.env.NEXUS_E2E_FAKE === '1' && !process.env.NEXUS_URL ? 'the fake server has no TURN relay' : undefined },
  );
});
