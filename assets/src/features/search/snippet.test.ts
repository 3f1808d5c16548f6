import { describe, expect, it } from 'vitest';
import { snippetParts } from './snippet';

describe('snippetParts', () => {
  it('marks what stands between \\u0002 and \\u0003', () => {
    expect(snippetParts('lunch at \u0002noon\u0003 or \u0002one\u0003')).toEqual([
      { text: 'lunch at ', mark: false },
      { text: 'noon', mark: true },
      { text: ' or ', mark: false },
      { text: 'one', mark: true },
    ]);
  });

  it('markup stays text; stray or unclosed markers do not break it', () => {
    expect(snippetParts('<b>\u0002x\u0003</b>')).toEqual([
      { text: '<b>', mark: false },
      { text: 'x', mark: true },
      { text: '</b>', mark: false },
    ]);
    expect(snippetParts('a\u0003b\u0002c')).toEqual([
      { text: 'ab', mark: false },
      { text: 'c', mark: true },
    ]);
    expect(snippetParts('')).toEqual([]);
  });
});
