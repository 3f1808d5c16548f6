/** What a reply shows of the message it answers (the server's `ReplyView`, built locally for the preview). */
import type { ReplyView } from '../../api';
import { snippetOf } from '../../api/messageView';
import type { ChatMessage } from '../../stores';

export { snippetOf };

export function replyViewOf(m: ChatMessage): ReplyView {
  return {
    id: m.id ?? '',
    seq: m.seq ?? 0,
    sender_id: m.sender_id,
    snippet: m.deleted_at ? '' : snippetOf(m.body),
    deleted: m.deleted_at !== null,
    attachments: m.attachments.length,
  };
}

/** What stands for the original when it has no words: deleted, or images only. */
export function replyText(r: ReplyView): string {
  if (r.deleted) return 'Message deleted';
  if (r.snippet) return r.snippet;
  if (r.attachments === 1) return '📷 Photo';
  if (r.attachments > 1) return `📷 ${r.attachments} photos`;
  return 'Message';
}
