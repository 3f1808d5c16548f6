/** The lightbox's zoom and pan math: fitting, zoom about a point, pan limits, double-click, pinch, wheel. */
import { describe, expect, it } from 'vitest';
import { clampView, fit, IDENTITY, MAX_SCALE, panBy, pinch, toggleZoom, transformOf, wheelFactor, zoomAt } from './zoom';

const stage = { width: 400, height: 300 };
// A 4:3 image fitted into the stage fills it exactly.
const image = fit({ width: 4000, height: 3000 }, stage);

describe('fit', () => {
  it('fits the stage keeping the proportions, and never enlarges a small image', () => {
    expect(image).toEqual({ width: 400, height: 300 });
    expect(fit({ width: 1000, height: 2000 }, stage)).toEqual({ width: 150, height: 300 });
    expect(fit({ width: 100, height: 50 }, stage)).toEqual({ width: 100, height: 50 });
    expect(fit({ width: 0, height: 50 }, stage)).toEqual({ width: 0, height: 0 });
  });
});

describe('zoomAt', () => {
  it('keeps the image point under the pointer in place', () => {
    const at = { x: 100, y: -50 };
    const v = zoomAt(IDENTITY, 2, at, image, stage);
    expect(v.scale).toBe(2);
    // The image point under `at` was at `at` (scale 1, no pan); after: x + 2·at = at.
    expect(v.x + 2 * at.x).toBeCloseTo(at.x);
    expect(v.y + 2 * at.y).toBeCloseTo(at.y);
    // And zooming back out about the same point returns to the start.
    expect(zoomAt(v, 0.5, at, image, stage)).toEqual(IDENTITY);
  });

  it('stays within 1× and the maximum', () => {
    expect(zoomAt(IDENTITY, 0.2, { x: 0, y: 0 }, image, stage).scale).toBe(1);
    expect(zoomAt(IDENTITY, 100, { x: 0, y: 0 }, image, stage).scale).toBe(MAX_SCALE);
  });
});

describe('panning', () => {
  it('is limited to half the overflow, and impossible at 1×', () => {
    expect(panBy(IDENTITY, 50, 50, image, stage)).toEqual(IDENTITY);
    const z = { scale: 2, x: 0, y: 0 };
    // At 2× the 400×300 image is 800×600: it may move 200 px sideways and 150 px up or down.
    expect(panBy(z, 1000, -1000, image, stage)).toEqual({ scale: 2, x: 200, y: -150 });
    expect(panBy(z, 30, 20, image, stage)).toEqual({ scale: 2, x: 30, y: 20 });
  });

  it('keeps a narrow image centred along the axis it does not fill', () => {
    const tall = fit({ width: 1000, height: 2000 }, stage); // 150×300
    expect(clampView({ scale: 2, x: 100, y: 100 }, tall, stage)).toEqual({ scale: 2, x: 0, y: 100 });
  });
});

describe('toggleZoom (double-click)', () => {
  it('zooms in about the point, then back to fit', () => {
    const v = toggleZoom(IDENTITY, { x: 40, y: 30 }, image, stage);
    expect(v.scale).toBe(2.5);
    expect(v.x).toBeCloseTo(40 - 40 * 2.5);
    expect(toggleZoom(v, { x: 0, y: 0 }, image, stage)).toEqual(IDENTITY);
  });
});

describe('pinch', () => {
  it('scales by the change in finger distance about the midpoint', () => {
    const from: [{ x: number; y: number }, { x: number; y: number }] = [
      { x: -50, y: 0 },
      { x: 50, y: 0 },
    ];
    const to: typeof from = [
      { x: -100, y: 0 },
      { x: 100, y: 0 },
    ];
    expect(pinch(IDENTITY, from, to, image, stage)).toEqual({ scale: 2, x: 0, y: 0 });
    // Moving both fingers pans with them.
    const moved: typeof from = [
      { x: -60, y: 10 },
      { x: 140, y: 10 },
    ];
    expect(pinch(IDENTITY, from, moved, image, stage)).toEqual({ scale: 2, x: 40, y: 10 });
  });
});

describe('wheel and transform', () => {
  it('scrolling up zooms in, down zooms out, symmetrically', () => {
    expect(wheelFactor(-100)).toBeGreaterThan(1);
    expect(wheelFactor(100)).toBeLessThan(1);
    expect(wheelFactor(-100) * wheelFactor(100)).toBeCloseTo(1);
    expect(wheelFactor(-3, 1)).toBeCloseTo(wheelFactor(-48));
  });

  it('writes the CSS transform', () => {
    expect(transformOf({ scale: 2, x: 10.04, y: -3 })).toBe('translate(10px, -3px) scale(2)');
  });
});
