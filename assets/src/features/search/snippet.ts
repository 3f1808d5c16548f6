/**
 * A search hit's snippet: plain text with the matches between \u0002 and \u0003. It becomes
 * text and <mark> parts for React — never HTML, whatever the text holds.
 */
export interface SnippetPart {
  text: string;
  mark: boolean;
}

const OPEN = '\u0002';
const CLOSE = '\u0003';

export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let buf = '';
  const flush = () => {
    if (buf) parts.push({ text: buf, mark });
    buf = '';
  };
  for (const ch of snippet) {
    if (ch === OPEN || ch === CLOSE) {
      // A stray marker (unbalanced) only switches when it means something.
      if ((ch === OPEN) !== mark) {
        flush();
        mark = ch === OPEN;
      }
    } else {
      buf += ch;
    }
  }
  flush();
  return parts;
}
