/**
 * Splits message text into plain text and links, for rendering as React text nodes and
 * <a> elements — never as HTML. Only http(s) URLs (and `www.` ones, taken as https) become
 * links; everything else, `javascript:` included, stays text.
 */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/giu;
const TRAILING = /[.,;:!?'"»›…)\]}*_~]$/u;

/** The normalised URL if it is a safe http(s) link, else null. */
export function safeHref(raw: string): string | null {
  const withScheme = /^www\./iu.test(raw) ? `https://${raw}` : raw;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  return url.href;
}

/** Drops punctuation that ends the sentence, not the URL (keeping balanced parentheses). */
function trimTrailing(url: string): string {
  let out = url;
  while (TRAILING.test(out)) {
    const last = out[out.length - 1]!;
    if (last === ')') {
      const opens = (out.match(/\(/gu) ?? []).length;
      const closes = (out.match(/\)/gu) ?? []).length;
      if (closes <= opens) break;
    }
    out = out.slice(0, -1);
  }
  return out;
}

export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  const push = (t: string) => {
    if (!t) return;
    const prev = parts[parts.length - 1];
    if (prev?.kind === 'text') prev.text += t;
    else parts.push({ kind: 'text', text: t });
  };
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const raw = trimTrailing(match[0]);
    const href = raw.length > 'https://'.length - 1 ? safeHref(raw) : null;
    push(text.slice(last, start));
    if (href) parts.push({ kind: 'link', text: raw, href });
    else push(raw);
    last = start + raw.length;
  }
  push(text.slice(last));
  return parts;
}

const EMOJI_ONLY =
  /^(?:\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F|\u20E3)*(?:\u200D\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F)*)*\s*){1,3}$/u;

/** One to three emoji and nothing else: shown large, without a bubble. */
export function isEmojiOnly(text: string): boolean {
  const t = text.trim();
  return t.length > 0 && EMOJI_ONLY.test(t);
}
