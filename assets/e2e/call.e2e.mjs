/**
 * End-to-end: 1-on-1 calls in the web client against a running Nexus server, in headless
 * Chromium with a fake camera and microphone.
 *
 *   NEXUS_URL=http://127.0.0.1:8080 npm run e2e:calls
 *   (or: NEXUS_URL=… node --test e2e/call.e2e.mjs)
 *
 * Two users (registered through the API) open their direct conversation in two browser
 * profiles.
 * - "video call": alice starts a video call, bob accepts; both show "Connected" and decode
 *   video frames (inbound-rtp framesDecoded > 0 in `window.__nexusCall.pc.getStats()`);
 *   alice hangs up; both go back to idle, their peer connections are closed and their
 *   camera/microphone tracks stopped.
 * - "through the TURN relay": the same with `window.__nexusIceTransportPolicy = 'relay'` in
 *   both profiles: the selected candidate pair is relay/relay on both sides, video is
 *   decoded on both sides, and the server's `nexus_turn_relayed_bytes_total` (GET
 *   /metrics, Prometheus text; NEXUS_METRICS_URL overrides) went up. Needs the server's
 *   TURN relay reachable on loopback; skipped against the fake server.
 * - "declined": bob declines; alice sees "Call ended: Declined"; both end up idle.
 *
 * Env: NEXUS_URL (loopback only), NEXUS_E2E_FAKE=1 (e2e/dev-fake-server.mjs instead: no
 * TURN, so the relay test is skipped), NEXUS_METRICS_URL, CHROMIUM, NEXUS_INVITE_CODE.
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
  sleep,
  STEP_MS,
  suffix,
  testWithArtifacts,
  until,
} from './lib.mjs';
import {
  MEDIA_ARGS,
  callButton,
  callDialog,
  framesDecoded,
  incomingDialog,
  statusOf,
  waitForStatus as waitForStatusWithin,
  waitIdle as waitIdleWithin,
} from './call-page.mjs';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
/** ICE + DTLS on loopback take well under a second; a relayed path a little more. */
const CONNECT_MS = 20_000;
/** The "Call ended" notice stays 2 s; then the call screen goes away. */
const IDLE_MS = 8_000;

const waitForStatus = (p, text, timeout = CONNECT_MS) => waitForStatusWithin(p, text, timeout);
const waitIdle = (p) => waitIdleWithin(p, IDLE_MS);

let server;
let browser;
const diagnostics = [];
/** Pages to photograph when a test fails. */
const pages = new Map();

before(async () => {
  server = await serverUnderTest();
  browser = await launchBrowser({ args: MEDIA_ARGS });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
});

/** Runs a test with screenshots and the browser's complaints attached to a failure. */
const test = testWithArtifacts({ it, prefix: 'call', artifacts: ARTIFACTS, pages, diagnostics, timeout: 90_000 });


/**
 * Two fresh users with a direct conversation, each signed in in a browser profile of their
 * own (camera and microphone allowed) with the conversation open.
 */
async function pair({ relay = false } = {}) {
  const tag = suffix();
  const [aliceBot, bobBot] = await Promise.all([
    Bot.register(server.url, `alice_${tag}`, `Alice ${tag}`),
    Bot.register(server.url, `bob_${tag}`, `Bob ${tag}`),
  ]);
  const conversation = await aliceBot.direct(bobBot.user.id);
  const open = async (bot, name, peerName) => {
    const { context, page } = await openContext(browser, { diagnostics, name });
    pages.set(name, page);
    await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
    if (relay) await context.addInitScript(() => (window.__nexusIceTransportPolicy = 'relay'));
    await signInContext(context, server.url, bot);
    await page.goto(`${server.url}/?c=${conversation.id}`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('heading', { level: 2, name: peerName }).waitFor({ state: 'visible' });
    return { name, bot, context, page };
  };
  const [alice, bob] = await Promise.all([open(aliceBot, 'alice', bobBot.user.display_name), open(bobBot, 'bob', aliceBot.user.display_name)]);
  // Both gateways are up (the call buttons are enabled only with an open socket).
  await Promise.all([alice, bob].map((p) => until(`${p.name}'s call button`, () => callButton(p, 'video').isEnabled())));
  return { alice, bob, conversation };
}


/** Keeps a handle on the live peer connection and its local tracks, to check them after the hang-up. */
function holdPeerConnection(p) {
  return p.page.evaluate(() => {
    const pc = window.__nexusCall?.pc;
    window.__e2eHeld = pc ? { pc, tracks: pc.getSenders().map((s) => s.track).filter(Boolean) } : null;
    return !!pc;
  });
}

function heldPeerConnection(p) {
  return p.page.evaluate(() => {
    const held = window.__e2eHeld;
    return {
      exposed: !!window.__nexusCall,
      signalingState: held?.pc.signalingState ?? null,
      connectionState: held?.pc.connectionState ?? null,
      tracks: held ? held.tracks.map((t) => t.readyState) : [],
    };
  });
}

async function connectCall(alice, bob, media = 'video') {
  await callButton(alice, media).click();
  await callDialog(alice).waitFor({ state: 'visible' });
  await incomingDialog(bob).waitFor({ state: 'visible' });
  const ringingText = await statusOf(bob);
  assert.match(ringingText ?? '', media === 'video' ? /video call/i : /audio call/i);
  // Nothing is set up on the callee’s side before it accepts.
  assert.equal(await bob.page.evaluate(() => !!window.__nexusCall), false);
  await incomingDialog(bob).getByRole('button', { name: 'Accept call' }).click();
  await Promise.all([waitForStatus(alice, 'Connected'), waitForStatus(bob, 'Connected')]);
  await Promise.all([alice, bob].map((p) => until(`${p.name}'s peer connection`, () => p.page.evaluate(() => !!window.__nexusCall?.pc))));
}

async function assertVideoFlows(...people) {
  for (const p of people) {
    const frames = await until(`${p.name} decoding video frames`, async () => {
      const n = await framesDecoded(p);
      return n > 0 ? n : false;
    }, CONNECT_MS);
    assert.ok(frames > 0, `${p.name} decoded ${frames} frames`);
  }
}

async function hangUpAndCheck(caller, callee) {
  assert.ok(await holdPeerConnection(caller), `${caller.name} has a live peer connection`);
  assert.ok(await holdPeerConnection(callee), `${callee.name} has a live peer connection`);
  await callDialog(caller).getByRole('button', { name: 'Hang up' }).click();
  await Promise.all([waitIdle(caller), waitIdle(callee)]);
  for (const p of [caller, callee]) {
    const held = await heldPeerConnection(p);
    assert.equal(held.exposed, false, `${p.name}: window.__nexusCall is cleared`);
    assert.equal(held.signalingState, 'closed', `${p.name}: the peer connection is closed`);
    assert.equal(held.connectionState, 'closed', `${p.name}: the peer connection is closed`);
    assert.ok(held.tracks.length > 0 && held.tracks.every((s) => s === 'ended'), `${p.name}: every local track is stopped (${held.tracks})`);
  }
}

/** Sum of a Prometheus counter over all its label sets, or null when the server does not export it. */
async function counter(name) {
  const url = process.env.NEXUS_METRICS_URL ?? `${server.url}/metrics`;
  const res = await fetch(url, { signal: AbortSignal.timeout(STEP_MS) });
  assert.ok(res.ok, `GET ${url}: HTTP ${res.status}`);
  const text = await res.text();
  let total = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([^\s]+)/);
    if (m && m[1] === name) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

describe('calls', () => {
  test('video call: both sides connect and decode video; hanging up closes everything', async () => {
    const { alice, bob } = await pair();
    await connectCall(alice, bob, 'video');
    await assertVideoFlows(alice, bob);
    // The in-call view: own camera mirrored and muted, the timer running.
    await alice.page.getByTestId('local-video').waitFor({ state: 'visible' });
    await until('the call timer', async () => /^\d\d:\d\d$/.test((await alice.page.getByTestId('call-timer').textContent()) ?? ''));
    const mute = callDialog(alice).getByRole('button', { name: 'Mute microphone' });
    await mute.click();
    assert.equal(await callDialog(alice).getByRole('button', { name: 'Unmute microphone' }).getAttribute('aria-pressed'), 'true');
    await hangUpAndCheck(alice, bob);
  });

  test(
    'through the TURN relay: relay candidates on both sides, video decoded, relayed bytes counted',
    async () => {
      const before = await counter('nexus_turn_relayed_bytes_total');
      assert.notEqual(before, null, 'the server exports nexus_turn_relayed_bytes_total');
      const { alice, bob } = await pair({ relay: true });
      await connectCall(alice, bob, 'video');
      await assertVideoFlows(alice, bob);
      for (const p of [alice, bob]) {
        const types = await until(`${p.name}'s selected candidate pair`, () => selectedPairTypes(p.page, '__nexusCall'));
        assert.deepEqual({ local: types.local, remote: types.remote }, { local: 'relay', remote: 'relay' }, `${p.name}'s selected pair`);
      }
      const afterBytes = await until(
        'nexus_turn_relayed_bytes_total to grow',
        async () => {
          const now = await counter('nexus_turn_relayed_bytes_total');
          return now !== null && now > before ? now : false;
        },
        CONNECT_MS,
      );
      assert.ok(afterBytes > before, `relayed bytes ${before} → ${afterBytes}`);
      await hangUpAndCheck(alice, bob);
    },
    { skip: process.env.NEXUS_E2E_FAKE === '1' && !process.env.NEXUS_URL ? 'the fake server has no TURN relay' : undefined },
  );

  test('declined: the caller sees "Call ended: Declined" and both end up idle', async () => {
    const { alice, bob } = await pair();
    await callButton(alice, 'audio').click();
    await incomingDialog(bob).waitFor({ state: 'visible' });
    await incomingDialog(bob).getByRole('button', { name: 'Decline call' }).click();
    const text = await waitForStatus(alice, 'Call ended', STEP_MS);
    assert.match(text, /Call ended: Declined/);
    await Promise.all([waitIdle(alice), waitIdle(bob)]);
    assert.equal(await alice.page.evaluate(() => !!window.__nexusCall), false);
    assert.equal(await bob.page.evaluate(() => !!window.__nexusCall), false);
  });
});
