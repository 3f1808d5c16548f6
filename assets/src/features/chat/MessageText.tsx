import { memo } from 'react';
import { linkify } from './linkify';

/**
 * A message body as React text nodes, with http(s) links as <a>. Never HTML: whatever the
 * body holds is shown as the characters it is.
 */
export const MessageText = memo(function MessageText({ body, own }: { body: string; own: boolean }) {
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
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  );
});
