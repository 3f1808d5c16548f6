/**
 * Paints an image's blurhash (npm `blurhash`) into a tiny canvas and returns it as a data
 * URL, to show where the image will be while it loads. Decoded once per hash and kept: the
 * same placeholders come back as the list scrolls.
 */
import { decode, isBlurhashValid } from 'blurhash';

/** Width of the decoded placeholder; the browser scales it up, blurred anyway. */
const PX = 32;
const MAX_CACHED = 500;
const cache = new Map<string, string | null>();

export function blurhashUrl(hash: string | null | undefined, width: number, height: number): string | null {
  if (!hash) return null;
  const ratio = width > 0 && height > 0 ? height / width : 1;
  const w = PX;
  const h = Math.max(4, Math.min(96, Math.round(PX * ratio)));
  const key = `${hash}:${h}`;
  if (cache.has(key)) return cache.get(key)!;
  const url = paint(hash, w, h);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(key, url);
  return url;
}

function paint(hash: string, w: number, h: number): string | null {
  try {
    if (!isBlurhashValid(hash).result || typeof document === 'undefined') return null;
    const pixels = decode(hash, w, h);
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    const data = ctx.createImageData(w, h);
    data.data.set(pixels);
    ctx.putImageData(data, 0, 0);
    return canvas.toDataURL();
  } catch {
    return null;
  }
}
