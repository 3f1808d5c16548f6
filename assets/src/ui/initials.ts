/** Up to two initials for an avatar: "Ada Lovelace" → "AL", "ada" → "A". Counts code points, not UTF-16 units. */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  return letters
    .map((w) => Array.from(w ?? '')[0] ?? '')
    .join('')
    .toLocaleUpperCase();
}

/**
 * The name to draw initials from for a conversation: emoji dropped ("Weekend trip 🏔️" →
 * "Weekend trip"), unless the name is nothing but emoji.
 */
export function avatarName(title: string): string {
  const plain = title.replace(/[\p{Extended_Pictographic}\p{Emoji_Modifier}\u200D\uFE0F]/gu, ' ').trim();
  return plain || title;
}
