import { memo } from 'react';
import { cn } from '../../ui';
import { mentionParts } from '../mentions/mentions';
import { linkify } from './linkify';

const NO_NAMES: ReadonlyMap<string, string> = new Map();

/**
 * A message body as React text nodes, with http(s) links as <a> and the mentions the server
 * resolved highlighted (the user's own more strongly). Never HTML: whatever the body holds
 * is shown as the characters it is.
 */
export const MessageText = memo(function MessageText({
  body,
  own,
  mentions = NO_NAMES,
  myId = null,
}: {
  body: string;
  own: boolean;
  /** username (lower case) → user id, of the users this message mentions. */
  mentions?: ReadonlyMap<string, string>;
  myId?: string | null;
}) {
  return (
    <>
      {linkify(body).map((part, i) =>
        part.kind === 'link' ? (
          <a
            key={i}
            href={part.href}
            target="_blank"
            rel="noopener noreferrer nofollow"
            className={
              own
                ? 'font-medium underline decoration-white/60 underline-offset-2 hover:decoration-white'
                : 'font-medium text-accent-600 underline decoration-accent-400/50 underline-offset-2 hover:decoration-accent-500 dark:text-accent-300'
            }
          >
            {part.text}
          </a>
        ) : (
          <span key={i}>
            {mentionParts(part.text, mentions).map((p, j) =>
              p.kind === 'mention' ? (
                <span
                  key={j}
                  data-mention={p.userId === myId ? 'me' : 'other'}
                  className={cn(
                    'rounded-md px-0.5 font-semibold',
                    p.userId === myId
                      ? 'bg-amber-300/70 text-amber-950 dark:bg-amber-400/80 dark:text-amber-950'
                      : own
                        ? 'bg-white/20 text-white'
                        : 'bg-accent-500/12 text-accent-700 dark:bg-accent-400/20 dark:text-accent-200',
                  )}
                >
                  {p.text}
                </span>
              ) : (
                p.text
              ),
            )}
          </span>
        ),
      )}
    </>
  );
});
