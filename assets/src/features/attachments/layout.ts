/**
 * Sizes of a message's images, computed from their width and height before any of them
 * loads, so the bubble has its final size at once (no layout shift as images arrive).
 *
 * One image keeps its proportions, within MAX_SIDE and between 1:3 and 3:1 (beyond that
 * it is cropped). Several go in a grid of square cells, two per row; with an odd count the
 * first one takes a whole row.
 */
export const GRID_WIDTH = 288;
export const MAX_SIDE = 320;
const GAP = 2;
/** Side of a square cell of the grid. */
const HALF = Math.floor((GRID_WIDTH - GAP) / 2);

export interface Cell {
  width: number;
  height: number;
  /** Columns it spans (grid only). */
  span: 1 | 2;
}

export function singleSize(width: number, height: number): { width: number; height: number } {
  if (width <= 0 || height <= 0) return { width: GRID_WIDTH, height: GRID_WIDTH };
  const ratio = Math.min(3, Math.max(1 / 3, width / height));
  let w = Math.min(GRID_WIDTH, width);
  let h = w / ratio;
  if (h > MAX_SIDE) {
    h = MAX_SIDE;
    w = h * ratio;
  }
  // Tiny images are shown no smaller than a tappable size.
  if (w < 96 && h < 96) {
    const k = 96 / Math.max(w, h);
    w *= k;
    h *= k;
  }
  return { width: Math.round(w), height: Math.round(h) };
}

export function gridCells(count: number): Cell[] {
  return Array.from({ length: count }, (_, i) =>
    count % 2 === 1 && i === 0 ? { width: GRID_WIDTH, height: HALF, span: 2 } : { width: HALF, height: HALF, span: 1 },
  );
}

/** The height a message's images take, for the list's first guess at a row's size. */
export function imagesHeight(images: readonly { width: number; height: number }[]): number {
  if (images.length === 0) return 0;
  if (images.length === 1) return singleSize(images[0]!.width, images[0]!.height).height;
  // Every row of the grid is one cell high, the odd first one included.
  return Math.ceil(images.length / 2) * (HALF + GAP);
}
