import { describe, expect, it } from 'vitest';
import { isEmojiOnly, linkify, safeHref } from './linkify';

describe('linkify', () => {
  it('plain text stays one text part', () => {
    expect(linkify('hello there')).toEqual([{ kind: 'text', text: 'hello there' }]);
    expect(linkify('')).toEqual([]);
  });

  it('finds http and https links in text', () => {
    expect(linkify('see https://example.com/a?b=1#c now')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { kind: 'text', text: ' now' },
    ]);
    expect(linkify('http://x.org')[0]).toMatchObject({ kind: 'link', href: 'http://x.org/' });
  });

  it('www. links become https', () => {
    expect(linkify('go to www.rust-lang.org')[1]).toEqual({
      kind: 'link',
      text: 'www.rust-lang.org',
      href: 'https://www.rust-lang.org/',
    });
  });

  it('leaves sentence punctuation out of the link, keeps balanced parentheses in', () => {
    expect(linkify('Look: https://example.com.')[1]).toMatchObject({ text: 'https://example.com' });
    expect(linkify('(https://example.com)')).toEqual([
      { kind: 'text', text: '(' },
      { kind: 'link', text: 'https://example.com', href: 'https://example.com/' },
      { kind: 'text', text: ')' },
    ]);
    expect(linkify('https://en.wikipedia.org/wiki/Rust_(language)!')[0]).toMatchObject({
      text: 'https://en.wikipedia.org/wiki/Rust_(language)',
    });
  });

  it('never links other schemes', () => {
    for (const evil of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', 'file:///etc/passwd']) {
      expect(linkify(evil).every((p) => p.kind === 'text')).toBe(true);
    }
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://')).toBeNull();
  });

  it('HTML in a message is just text', () => {
    const parts = linkify('<img src=x onerror=alert(1)> <a href="javascript:1">x</a>');
    expect(parts).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)> <a href="javascript:1">x</a>' }]);
  });

  it('a quote character ends a link', () => {
    expect(linkify('"https://example.com/"x')[1]).toMatchObject({ kind: 'link', text: 'https://example.com/' });
  });

  it('several links', () => {
    const links = linkify('a https://a.io b https://b.io').filter((p) => p.kind === 'link');
    expect(links.map((l) => l.text)).toEqual(['https://a.io', 'https://b.io']);
  });
});

describe('isEmojiOnly', () => {
  it('one to three emoji', () => {
    expect(isEmojiOnly('🎉')).toBe(true);
    expect(isEmojiOnly(' 👍🏽 ')).toBe(true);
    expect(isEmojiOnly('❤️🔥🚀')).toBe(true);
    expect(isEmojiOnly('👨‍👩‍👧')).toBe(true);
  });

  it('not with text or more than three', () => {
    expect(isEmojiOnly('hi 🎉')).toBe(false);
    expect(isEmojiOnly('🎉🎉🎉🎉')).toBe(false);
    expect(isEmojiOnly('')).toBe(false);
    expect(isEmojiOnly('123')).toBe(false);
  });
});
