/**
 * The web client's call surfaces, as the browser scripts (call.e2e.mjs,
 * call-screenshots.mjs) drive and read them. `p` is `{ name, page }`.
 */
import { until } from './lib.mjs';

/** Chromium switches for calls: a fake camera and microphone, ICE on loopback, and
 * background tabs that keep decoding. */
export const MEDIA_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export const callButton = (p, media = 'video') =>
  p.page.getByRole('button', { name: media === 'video' ? 'Start video call' : 'Start audio call' });
export const callDialog = (p) => p.page.getByRole('dialog', { name: 'Call', exact: true });
export const incomingDialog = (p) => p.page.getByRole('dialog', { name: 'Incoming call' });

/** The call screen's status line, or null. */
export const statusOf = async (p) =>
  (await p.page.getByTestId('call-status').first().textContent({ timeout: 1_000 }).catch(() => null))?.trim() ?? null;

/** Waits until the status line contains `text`; returns the whole line. */
export function waitForStatus(p, text, timeout) {
  return until(`"${text}" on ${p.name}'s call screen`, async () => {
    const now = await statusOf(p);
    return now !== null && now.includes(text) ? now : false;
  }, timeout);
}

/** Back to idle: no call surface, and a new call could be started. */
export async function waitIdle(p, timeout) {
  await until(`${p.name} back to idle`, async () => {
    const surfaces = (await callDialog(p).count()) + (await incomingDialog(p).count());
    return surfaces === 0 && (await callButton(p).isEnabled());
  }, timeout);
}

/** The highest framesDecoded of the inbound video of the page's live peer connection (-1 without one). */
export function framesDecoded(p) {
  return p.page.evaluate(async () => {
    const pc = window.__nexusCall?.pc;
    if (!pc) return -1;
    let frames = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && (r.kind === 'video' || r.mediaType === 'video')) frames = Math.max(frames, r.framesDecoded ?? 0);
    });
    return frames;
  });
}
