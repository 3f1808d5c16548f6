/** Image bubble sizes from width and height, before anything loads. */
import { describe, expect, it } from 'vitest';
import { gridCells, GRID_WIDTH, imagesHeight, MAX_SIDE, singleSize } from './layout';

describe('singleSize', () => {
  it('keeps the proportions within the bounds', () => {
    expect(singleSize(4000, 3000)).toEqual({ width: GRID_WIDTH, height: 216 });
    expect(singleSize(3000, 4000)).toEqual({ width: 240, height: MAX_SIDE });
  });
  it('crops beyond 3:1 and enlarges tiny images to a tappable size', () => {
    expect(singleSize(10000, 100)).toEqual({ width: GRID_WIDTH, height: 96 });
    expect(singleSize(20, 10)).toEqual({ width: 96, height: 48 });
    expect(singleSize(0, 0)).toEqual({ width: GRID_WIDTH, height: GRID_WIDTH });
  });
});

describe('gridCells', () => {
  it('two per row, the first on its own row when the count is odd', () => {
    expect(gridCells(2).map((c) => c.span)).toEqual([1, 1]);
    expect(gridCells(3).map((c) => c.span)).toEqual([2, 1, 1]);
    expect(gridCells(3)[0]!.width).toBe(GRID_WIDTH);
  });
});

describe('imagesHeight', () => {
  it('adds up the rows of the grid', () => {
    const img = { width: 100, height: 100 };
    expect(imagesHeight([])).toBe(0);
    expect(imagesHeight([{ width: 4000, height: 3000 }])).toBe(216);
    expect(imagesHeight([img, img])).toBe(143 + 2);
    expect(imagesHeight([img, img, img])).toBe(2 * (143 + 2));
    expect(imagesHeight([img, img, img, img])).toBe(2 * (143 + 2));
  });
});
