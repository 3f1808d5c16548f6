import { describe, expect, it } from 'vitest';
import { canonicalEmoji } from './emoji';
import { MAX_EMOJI_VERSION, resolveEmojiData } from './emojiData';
import { QUICK_REACTIONS } from './QuickReactions';
import { reactorsLabel } from './ReactionChips';

describe('reactorsLabel', () => {
  const name = (id: string) => ({ bob: 'Bob', carol: 'Carol' })[id] ?? 'Someone';
  it('me first, then the others, with the rest counted', () => {
    expect(reactorsLabel({ emoji: '👍', count: 1, user_ids: ['me'] }, name, 'me')).toBe('You');
    expect(reactorsLabel({ emoji: '👍', count: 3, user_ids: ['bob', 'me', 'carol'] }, name, 'me')).toBe('You, Bob and Carol');
    expect(reactorsLabel({ emoji: '👍', count: 4, user_ids: ['bob'] }, name, 'me')).toBe('Bob and 3 others');
  });
});

describe('canonicalEmoji', () => {
  it('drops a redundant U+FE0F, keeps a needed one and sequences', () => {
    expect(canonicalEmoji('👍\uFE0F')).toBe('👍');
    expect(canonicalEmoji('❤\uFE0F')).toBe('❤\uFE0F');
    expect(canonicalEmoji('👍🏽')).toBe('👍🏽');
    expect(canonicalEmoji('🏳\uFE0F\u200D🌈')).toBe('🏳\uFE0F\u200D🌈');
  });
});

describe('the picker’s emoji data (bundled, never fetched)', () => {
  it('categories without "components", emoji up to the supported version, skin tones complete', async () => {
    const data = await resolveEmojiData('en', {});
    expect(data.categories.map((c) => c.label)).not.toContain('Components');
    expect(data.categories[0]?.label).toBe('Smileys & emotion');
    expect(data.emojis.length).toBeGreaterThan(1500);
    expect(data.emojis.every((e) => e.version <= MAX_EMOJI_VERSION)).toBe(true);
    const wave = data.emojis.find((e) => e.emoji === '👋')!;
    expect(wave.label).toBe('Waving hand');
    expect(Object.keys(wave.skins ?? {})).toHaveLength(5);
    for (const q of QUICK_REACTIONS) expect(data.emojis.some((e) => e.emoji === q)).toBe(true);
  });
});
