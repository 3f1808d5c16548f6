/**
 * The web client's group-call surfaces, as the browser scripts (room.e2e.mjs,
 * room-screenshots.mjs) drive and read them. `p` is `{ name, bot, page }`.
 */
import { until } from './lib.mjs';

/**
 * A fake screen for getDisplayMedia (headless Chromium has no screen to capture): an
 * animated canvas, so a screen share is a moving video like any other. Added with
 * `context.addInitScript(FAKE_SCREEN)`.
 */
export const FAKE_SCREEN = () => {
  const md = navigator.mediaDevices;
  if (!md) return;
  md.getDisplayMedia = async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext('2d');
    let frame = 0;
    const draw = () => {
      frame++;
      const g = ctx.createLinearGradient(0, 0, 1280, 720);
      g.addColorStop(0, '#1e1b4b');
      g.addColorStop(1, '#0f766e');
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, 1280, 720);
      ctx.fillStyle = 'rgba(255,255,255,0.92)';
      ctx.font = 'bold 64px sans-serif';
      ctx.fillText('Q4 roadmap', 96, 160);
      ctx.font = '36px sans-serif';
      ['Group calls', 'Screen sharing', 'Simulcast'].forEach((t, i) => ctx.fillText(`•  ${t}`, 120, 280 + i * 70));
      ctx.fillStyle = '#34d399';
      ctx.fillRect(96, 560, ((frame * 6) % 1088) + 1, 24);
    };
    draw();
    setInterval(draw, 66);
    const stream = canvas.captureStream(15);
    window.__e2eScreenCanvas = canvas;
    return stream;
  };
};

export const roomDialog = (p) => p.page.getByRole('dialog', { name: 'Group call', exact: true });
export const roomBanner = (p) => p.page.getByTestId('room-banner');
export const startButton = (p, media = 'video') =>
  p.page.getByRole('button', { name: media === 'video' ? 'Start video call' : 'Start audio call', exact: true });

/** Starts the group's call from the header. */
export async function startCall(p, media = 'video') {
  await until(`${p.name}'s start button`, () => startButton(p, media).isEnabled());
  await startButton(p, media).click();
  await roomDialog(p).waitFor({ state: 'visible' });
}

/** Joins the call going on in the open group, from the banner. */
export async function joinCall(p) {
  const join = roomBanner(p).getByRole('button', { name: /^Join( here)?$/ });
  await join.waitFor({ state: 'visible' });
  await until(`${p.name}'s Join button`, () => join.isEnabled());
  await join.click();
  await roomDialog(p).waitFor({ state: 'visible' });
}

export async function leaveCall(p) {
  await roomDialog(p).getByRole('button', { name: 'Leave call' }).click();
  await roomDialog(p).waitFor({ state: 'hidden' });
}

/** The tiles on the page's call screen: [{ user, source, muted, videoOff, active }]. */
export function tilesOf(p) {
  return p.page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="room-tile"]')].map((el) => ({
      user: el.dataset.user,
      source: el.dataset.source,
      muted: el.dataset.muted === 'true',
      videoOff: el.dataset.videoOff === 'true',
      active: el.dataset.active === 'true',
    })),
  );
}

/**
 * The inbound RTP streams of the page's room connection, by mid:
 * { video: { mid: framesDecoded }, audio: { mid: packetsReceived } }; null without a connection.
 */
export function inbound(p) {
  return p.page.evaluate(async () => {
    const pc = window.__nexusRoom?.pc;
    if (!pc) return null;
    const out = { video: {}, audio: {} };
    (await pc.getStats()).forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      const kind = r.kind ?? r.mediaType;
      const key = r.mid ?? r.trackIdentifier ?? r.id;
      if (kind === 'video') out.video[key] = r.framesDecoded ?? 0;
      else if (kind === 'audio') out.audio[key] = r.packetsReceived ?? 0;
    });
    return out;
  });
}

/** How many inbound video and audio streams grew over `ms`: { video, audio } (counts). */
export async function growing(p, ms = 1_500) {
  const a = await inbound(p);
  await new Promise((r) => setTimeout(r, ms));
  const b = await inbound(p);
  if (!a || !b) return { video: 0, audio: 0 };
  const count = (kind) => Object.keys(b[kind]).filter((k) => b[kind][k] > (a[kind][k] ?? 0)).length;
  return { video: count('video'), audio: count('audio') };
}

/**
 * Waits until the page decodes video from `video` inbound streams (and receives audio on
 * `audio`), all growing. Returns the last counts.
 */
export async function waitForMedia(p, { video, audio = video }, timeout) {
  let seen = null;
  try {
    return await until(
      `${p.name} receiving ${video} videos and ${audio} audio streams`,
      async () => {
        const g = await growing(p);
        seen = g;
        return g.video >= video && g.audio >= audio ? g : false;
      },
      timeout,
    );
  } catch (err) {
    // What the page had: which streams grew, the counters by mid, the transceivers.
    const counters = await inbound(p).catch(() => null);
    const transceivers = await p.page
      .evaluate(() => window.__nexusRoom?.pc?.getTransceivers().map((t) => `${t.mid}:${t.receiver.track.kind}:${t.currentDirection}`) ?? null)
      .catch(() => null);
    err.message += `; growing ${JSON.stringify(seen)}, inbound ${JSON.stringify(counters)}, transceivers ${JSON.stringify(transceivers)}`;
    throw err;
  }
}

/** The videos on the call screen that play moving pictures (currentTime advancing). */
export function playingVideos(p) {
  return p.page.evaluate(async () => {
    const els = [...document.querySelectorAll('[data-testid="room-tile"] video')].filter((el) => el.srcObject);
    const before = els.map((el) => el.currentTime);
    await new Promise((r) => setTimeout(r, 400));
    return els.filter((el, i) => el.videoWidth > 0 && el.currentTime > before[i]).length;
  });
}

/** The videos on the call screen that show a picture (not black, not empty) right now. */
export function videosShowing(p) {
  return p.page.evaluate(() => {
    let n = 0;
    for (const v of document.querySelectorAll('[data-testid="room-tile"] video')) {
      if (!v.srcObject || !v.videoWidth) continue;
      const c = document.createElement('canvas');
      c.width = 32;
      c.height = 18;
      const ctx = c.getContext('2d');
      ctx.drawImage(v, 0, 0, 32, 18);
      const d = ctx.getImageData(0, 0, 32, 18).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
      if (sum / (d.length / 4) > 40) n++;
    }
    return n;
  });
}

/** The videos on the call screen that present a new frame for painting within a second (requestVideoFrameCallback). */
export function videosPresenting(p) {
  return p.page.evaluate(async () => {
    const els = [...document.querySelectorAll('[data-testid="room-tile"] video')].filter((v) => v.srcObject && v.requestVideoFrameCallback);
    const got = await Promise.all(
      els.map((v) => new Promise((ok) => {
        const t = setTimeout(() => ok(false), 1_000);
        v.requestVideoFrameCallback(() => {
          clearTimeout(t);
          ok(true);
        });
      })),
    );
    return got.filter(Boolean).length;
  });
}
