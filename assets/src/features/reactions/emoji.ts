/**
 * One spelling per emoji, so the same reaction from the quick bar and from the picker is
 * one chip: a single emoji that is shown as an emoji by default drops its redundant
 * variation selector (U+FE0F: "👍️" → "👍"); one that needs it to be an emoji keeps it
 * ("❤️"), and so do sequences.
 */
const REDUNDANT_VS16 = /^(\p{Emoji_Presentation})\uFE0F$/u;

export function canonicalEmoji(emoji: string): string {
  return emoji.replace(REDUNDANT_VS16, '$1');
}
