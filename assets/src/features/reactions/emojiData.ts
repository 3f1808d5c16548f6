/**
 * The picker's emoji, from the emojibase-data package bundled with the app (a lazy chunk,
 * never a CDN): English labels and tags, categories without "components", skin tones, and
 * only emoji up to a version most systems can draw.
 */
import type { EmojiDataResolver } from 'frimousse';
import { canonicalEmoji } from './emoji';

/** Emoji 15.0 (2022): drawn by current Android, iOS, macOS, Windows and Noto. */
export const MAX_EMOJI_VERSION = 15;

const TONES = ['light', 'medium-light', 'medium', 'medium-dark', 'dark'] as const;
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const resolveEmojiData: EmojiDataResolver = async (locale) => {
  const { emojis, messages } = await import('./emojibaseData');
  const groups = messages.groups.filter((g) => g.key !== 'component');
  const shown = new Set(groups.map((g) => g.order));
  return {
    locale,
    categories: groups.map((g) => ({ index: g.order, label: capital(g.message) })),
    skinTones: Object.fromEntries(messages.skinTones.map((t) => [t.key, capital(t.message)])) as Record<(typeof TONES)[number], string>,
    emojis: emojis
      .filter((e) => e.group !== undefined && shown.has(e.group) && e.version <= MAX_EMOJI_VERSION)
      .map((e) => {
        const skins: Partial<Record<(typeof TONES)[number], string>> = {};
        for (const s of e.skins ?? []) if (typeof s.tone === 'number') skins[TONES[s.tone - 1]!] = canonicalEmoji(s.emoji);
        return {
          emoji: canonicalEmoji(e.emoji),
          category: e.group!,
          label: capital(e.label),
          version: e.version,
          tags: e.tags ?? [],
          ...(Object.keys(skins).length === TONES.length ? { skins: skins as Record<(typeof TONES)[number], string> } : {}),
        };
      }),
  };
};
