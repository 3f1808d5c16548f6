/**
 * The grid maths of the in-call view. From 1 to 16 tiles:
 *
 * - Wide screens: the number of columns that gives each tile the largest 16:9 picture in
 *   the space there is (rows and columns as balanced as the space allows).
 * - Phones held upright: stacked for one or two people, two columns from three on (rows
 *   as needed; the grid scrolls when they get too small).
 * - An incomplete last row is centred: the grid has two CSS columns per tile, and the last
 *   row's first tile starts half a tile in for every tile missing (`lastRowStart`).
 */

export interface GridShape {
  cols: number;
  rows: number;
}

export const TILE_ASPECT = 16 / 9;
/** The gap between tiles, in CSS pixels (Tailwind gap-2 / sm:gap-3 stays near it). */
export const TILE_GAP = 10;

/** Whether the space is a phone held upright. */
export function isPortraitPhone(width: number, height: number): boolean {
  return width < 640 && height > width;
}

/** The columns and rows for `n` tiles in `width` × `height` CSS pixels. */
export function gridShape(n: number, width: number, height: number, gap = TILE_GAP): GridShape {
  const count = Math.max(1, Math.floor(n));
  if (isPortraitPhone(width, height)) {
    const cols = count <= 2 ? 1 : 2;
    return { cols, rows: Math.ceil(count / cols) };
  }
  let best: GridShape = { cols: 1, rows: count };
  let bestArea = -1;
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    // A column more that leaves a whole row empty is never better.
    if ((cols - 1) * rows >= count && cols > 1) continue;
    const cellW = (width - gap * (cols - 1)) / cols;
    const cellH = (height - gap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const w = Math.min(cellW, cellH * TILE_ASPECT);
    const area = w * (w / TILE_ASPECT);
    if (area > bestArea + 0.5) {
      best = { cols, rows };
      bestArea = area;
    }
  }
  return best;
}

/**
 * The CSS grid column (1-based, in a grid of 2 × cols columns) where tile `index` starts:
 * auto for all but the first tile of an incomplete last row, which is moved in to centre it.
 */
export function tileColumnStart(index: number, n: number, cols: number): number | undefined {
  const inLast = n % cols;
  if (inLast === 0) return undefined;
  const firstOfLast = n - inLast;
  if (index !== firstOfLast) return undefined;
  return cols - inLast + 1;
}

/** The size of one tile in the grid (what `room.view` reports before the element is measured). */
export function tileSize(shape: GridShape, width: number, height: number, gap = TILE_GAP): { width: number; height: number } {
  return {
    width: Math.max(0, (width - gap * (shape.cols - 1)) / shape.cols),
    height: Math.max(0, (height - gap * (shape.rows - 1)) / shape.rows),
  };
}
