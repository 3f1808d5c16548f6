// @vitest-environment happy-dom
/**
 * The lightbox rendered alone: a modal dialog with labelled controls; the keyboard, the
 * wheel, the buttons and a drag change the image's transform; ← → move through the
 * conversation's images; Esc and Close close it, and the focus goes back.
 */
import { act } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConversationImage } from '../../stores';
import { click, fakeServices, render, type Rendered } from '../../test/services';
import { Lightbox } from './Lightbox';

let view: Rendered | null = null;
afterEach(() => {
  view?.unmount();
  view = null;
});

// happy-dom lays nothing out: give every element a 400×300 box at the origin.
const restore: Array<() => void> = [];
beforeAll(() => {
  for (const [prop, value] of [
    ['clientWidth', 400],
    ['clientHeight', 300],
  ] as const) {
    const before = Object.getOwnPropertyDescriptor(HTMLElement.prototype, prop);
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => value });
    restore.push(() => before && Object.defineProperty(HTMLElement.prototype, prop, before));
  }
  const rect = HTMLElement.prototype.getBoundingClientRect;
  HTMLElement.prototype.getBoundingClientRect = () => ({ left: 0, top: 0, width: 400, height: 300, right: 400, bottom: 300, x: 0, y: 0, toJSON: () => ({}) });
  restore.push(() => (HTMLElement.prototype.getBoundingClientRect = rect));
});
afterAll(() => restore.forEach((r) => r()));

const image = (key: string): ConversationImage => ({
  messageKey: `m-${key}`,
  senderId: 'bob',
  createdAt: '2026-11-28T05:00:00Z',
  attachment: { key, id: key, mime: 'image/jpeg', width: 4000, height: 3000, blurhash: null, url: `/o/${key}`, preview: `/p/${key}`, thumbnail: `/t/${key}` },
});
const images = [image('a'), image('b'), image('c')];

function open(onClose = vi.fn(), startKey = 'b') {
  const services = fakeServices();
  view = render(<Lightbox images={images} startKey={startKey} nameOf={() => 'Bob'} onClose={onClose} />, services);
  const dialog = view.container.querySelector('dialog')!;
  const img = view.container.querySelector<HTMLElement>('[data-testid="lightbox-image"]')!;
  const stage = view.container.querySelector<HTMLElement>('[data-testid="lightbox-stage"]')!;
  const key = (k: string) => act(() => void dialog.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true })));
  const scale = () => Number(/scale\(([\d.]+)\)/.exec(img.style.transform)?.[1]);
  const translate = () => /translate\(([^)]*)\)/.exec(img.style.transform)?.[1];
  return { dialog, img, stage, key, scale, translate, onClose };
}

describe('Lightbox', () => {
  it('is a labelled modal dialog showing the chosen image, fitted', () => {
    const { dialog, img } = open();
    expect(dialog.getAttribute('aria-label')).toMatch(/^Image 2 of 3, from Bob/);
    expect(img.querySelector('img')?.getAttribute('src')).toBe('/p/b');
    expect([img.style.width, img.style.height]).toEqual(['400px', '300px']);
    for (const label of ['Zoom in', 'Zoom out', 'Download image', 'Close', 'Previous image', 'Next image']) {
      expect(view!.container.querySelector(`[aria-label="${label}"]`), label).not.toBeNull();
    }
    expect(view!.container.querySelector('a[aria-label="Download image"]')?.getAttribute('href')).toBe('/o/b');
  });

  it('+ and − zoom, 0 fits; the buttons zoom too; past 1.5× the original is loaded', () => {
    const { key, scale, img } = open();
    expect(scale()).toBe(1);
    key('+');
    expect(scale()).toBe(1.5);
    expect(img.querySelectorAll('img')[1]?.getAttribute('src')).toBe('/o/b');
    key('-');
    expect(scale()).toBe(1);
    click(view!.button('Zoom in'));
    click(view!.button('Zoom in'));
    expect(scale()).toBe(2.25);
    key('0');
    expect(scale()).toBe(1);
  });

  it('the wheel zooms, and a drag pans the zoomed image', () => {
    const { stage, scale, translate } = open();
    act(() => void stage.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, clientX: 300, clientY: 150, bubbles: true, cancelable: true })));
    expect(scale()).toBeGreaterThan(1.5);
    const before = translate();
    const pointer = (type: string, x: number, y: number) =>
      act(() => void stage.dispatchEvent(new PointerEvent(type, { pointerId: 1, pointerType: 'mouse', button: 0, clientX: x, clientY: y, bubbles: true })));
    pointer('pointerdown', 200, 150);
    pointer('pointermove', 160, 130);
    pointer('pointerup', 160, 130);
    expect(translate()).not.toBe(before);
  });

  it('← and → move through the images and open each fitted; the ends stop', () => {
    const { dialog, key, scale } = open();
    key('+');
    key('ArrowRight');
    expect(dialog.getAttribute('aria-label')).toMatch(/^Image 3 of 3/);
    expect(scale()).toBe(1);
    expect(view!.container.querySelector('[aria-label="Next image"]')).toBeNull();
    key('ArrowRight');
    expect(dialog.getAttribute('aria-label')).toMatch(/^Image 3 of 3/);
    click(view!.button('Previous image'));
    click(view!.button('Previous image'));
    expect(dialog.getAttribute('aria-label')).toMatch(/^Image 1 of 3/);
  });

  it('Esc (the dialog’s cancel) and Close close it; the focus returns to the opener', () => {
    const opener = document.createElement('button');
    document.body.append(opener);
    opener.focus();
    const { dialog, onClose } = open();
    act(() => void dialog.dispatchEvent(new Event('cancel', { cancelable: true })));
    expect(onClose).toHaveBeenCalledTimes(1);
    click(view!.button('Close'));
    expect(onClose).toHaveBeenCalledTimes(2);
    view!.unmount();
    view = null;
    expect(document.activeElement).toBe(opener);
    opener.remove();
  });
});
