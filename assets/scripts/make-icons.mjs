/**
 * Draws the app icons (public/icons/*.png) from the Nexus mark (src/ui/Logo.tsx) with
 * Debian's Chromium: `node scripts/make-icons.mjs`. Run once when the mark changes; the PNGs
 * are committed. "any" icons are the rounded mark on transparency; the maskable one fills
 * the square with the gradient and keeps the glyph inside the 80% safe zone.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUT = fileURLToPath(new URL('../public/icons/', import.meta.url));

const gradient = `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
  <stop offset="0" stop-color="#6366f1"/><stop offset="1" stop-color="#14b8a6"/></linearGradient></defs>`;
const glyph = (scale) =>
  `<g transform="translate(16 16) scale(${scale}) translate(-16 -16)"><path d="M10 22V10l12 12V10" fill="none" stroke="white" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></g>`;

// The mark as in the app, with a small margin so launchers do not clip the corners.
const any = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 34 34">${gradient}<rect width="32" height="32" rx="9" fill="url(#g)"/>${glyph(1)}</svg>`;
// Full bleed; the glyph shrunk to sit well inside the safe zone (a circle of 40% radius).
const maskable = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">${gradient}<rect width="32" height="32" fill="url(#g)"/>${glyph(0.72)}</svg>`;
// iOS draws its own rounded corners and no transparency: full square.
const apple = maskable.replace(glyph(0.72), glyph(0.85));

const icons = [
  ['icon-192.png', any, 192],
  ['icon-512.png', any, 512],
  ['maskable-512.png', maskable, 512],
  ['apple-touch-icon-180.png', apple, 180],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (const [file, svg, size] of icons) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`,
    );
    await writeFile(OUT + file, await page.screenshot({ omitBackground: true }));
    await page.close();
    console.log(`public/icons/${file}`);
  }
} finally {
  await browser.close();
}
