import { describe, expect, it } from 'vitest';
import { applicationServerKey, base64UrlToBytes } from './keys';

/** base64url of bytes, unpadded (the test's own encoder, through btoa). */
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

describe('base64UrlToBytes', () => {
  it('decodes unpadded base64url, with - and _', () => {
    expect([...base64UrlToBytes('AQID')]).toEqual([1, 2, 3]);
    expect([...base64UrlToBytes('-_8')]).toEqual([0xfb, 0xff]);
    expect(b64url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect([...base64UrlToBytes('AA')]).toEqual([0]);
    expect([...base64UrlToBytes('AA==')]).toEqual([0]);
    expect(base64UrlToBytes('')).toHaveLength(0);
  });

  it('inverts btoa on bytes of every length up to 70', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n * 11) & 0xff);
      const text = b64url(bytes);
      expect([...base64UrlToBytes(text)]).toEqual([...bytes]);
    }
  });

  it('refuses what is not base64url', () => {
    expect(() => base64UrlToBytes('a+b/')).toThrow();
    expect(() => base64UrlToBytes('abcde')).toThrow();
    expect(() => base64UrlToBytes('ab$d')).toThrow();
  });
});

describe('applicationServerKey', () => {
  it('takes a 65-byte uncompressed P-256 point', () => {
    const point = new Uint8Array(65).fill(7);
    point[0] = 4;
    expect(applicationServerKey(b64url(point))).toEqual(point);
  });

  it('refuses other lengths and compressed points', () => {
    expect(() => applicationServerKey(b64url(new Uint8Array(64).fill(4)))).toThrow();
    const compressed = new Uint8Array(65).fill(7);
    compressed[0] = 2;
    expect(() => applicationServerKey(b64url(compressed))).toThrow();
  });
});
