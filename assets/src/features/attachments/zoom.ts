/**
 * The lightbox's zoom and pan, as pure math on a view `{ scale, x, y }`: the image, fitted
 * into the stage at scale 1 and centred, is drawn with `translate(x, y) scale(scale)` about
 * its centre. Points are in pixels from the stage's centre.
 *
 * Invariants (every function returns a clamped view):
 * - `scale` stays within MIN_SCALE–MAX_SCALE;
 * - a zoomed image never leaves a gap it could cover: along each axis the pan is limited to
 *   half the overflow, and an image smaller than the stage stays centred.
 * - zooming about a point keeps the image point under it where it was (wheel, pinch,
 *   double-click feel anchored to the pointer).
 */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export const MIN_SCALE = 1;
export const MAX_SCALE = 8;
/** Where a double-click or double-tap zooms to. */
export const DOUBLE_TAP_SCALE = 2.5;
/** One press of a zoom button or of + / −. */
export const STEP = 1.5;
export const IDENTITY: View = { scale: 1, x: 0, y: 0 };

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The largest size with the image's proportions that fits the stage (never enlarged past `maxScale`). */
export function fit(natural: Size, stage: Size, maxScale = 1): Size {
  if (natural.width <= 0 || natural.height <= 0 || stage.width <= 0 || stage.height <= 0) return { width: 0, height: 0 };
  const k = Math.min(stage.width / natural.width, stage.height / natural.height, maxScale);
  return { width: natural.width * k, height: natural.height * k };
}

/** Clamps the scale and the pan (see the invariants). `image` is the fitted size at scale 1. */
export function clampView(v: View, image: Size, stage: Size): View {
  const scale = clamp(v.scale, MIN_SCALE, MAX_SCALE);
  const maxX = Math.max(0, (image.width * scale - stage.width) / 2);
  const maxY = Math.max(0, (image.height * scale - stage.height) / 2);
  return { scale, x: clamp(v.x, -maxX, maxX) + 0, y: clamp(v.y, -maxY, maxY) + 0 };
}

/** Multiplies the scale by `factor` about `at`. */
export function zoomAt(v: View, factor: number, at: Point, image: Size, stage: Size): View {
  const scale = clamp(v.scale * factor, MIN_SCALE, MAX_SCALE);
  const k = scale / v.scale;
  return clampView({ scale, x: at.x - (at.x - v.x) * k, y: at.y - (at.y - v.y) * k }, image, stage);
}

export function panBy(v: View, dx: number, dy: number, image: Size, stage: Size): View {
  return clampView({ ...v, x: v.x + dx, y: v.y + dy }, image, stage);
}

/** Double-click / double-tap: zoom in to DOUBLE_TAP_SCALE about the point, or back to fit. */
export function toggleZoom(v: View, at: Point, image: Size, stage: Size): View {
  if (v.scale > MIN_SCALE + 0.01) return IDENTITY;
  return zoomAt(v, DOUBLE_TAP_SCALE / v.scale, at, image, stage);
}

/** The zoom factor of one wheel event (trackpads send many small deltas, mice a few large ones). */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-clamp(px, -200, 200) * 0.0025);
}

/**
 * Two-finger pinch: from the view when the fingers went down (`start`, at `from`), to where
 * they are now (`to`). The image point under the fingers' midpoint follows the midpoint.
 */
export function pinch(start: View, from: [Point, Point], to: [Point, Point], image: Size, stage: Size): View {
  const d0 = distance(from);
  const k = d0 > 0 ? distance(to) / d0 : 1;
  const scale = clamp(start.scale * k, MIN_SCALE, MAX_SCALE);
  const m0 = midpoint(from);
  const m1 = midpoint(to);
  const r = scale / start.scale;
  return clampView({ scale, x: m1.x - (m0.x - start.x) * r, y: m1.y - (m0.y - start.y) * r }, image, stage);
}

export function transformOf(v: View): string {
  return `translate(${round(v.x)}px, ${round(v.y)}px) scale(${round(v.scale, 1000)})`;
}

const round = (n: number, k = 10) => Math.round(n * k) / k;
const distance = ([a, b]: [Point, Point]) => Math.hypot(a.x - b.x, a.y - b.y);
const midpoint = ([a, b]: [Point, Point]): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
