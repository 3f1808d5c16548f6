import type { ChatMessage } from '../../stores';
import { Button, Dialog } from '../../ui';
import { snippetOf } from '../replies/reply';

/** Asks before deleting: the message goes for everyone, leaving "Message deleted" in its place. */
export default function DeleteDialog({ m, own, onConfirm, onClose }: { m: ChatMessage; own: boolean; onConfirm(): void; onClose(): void }) {
  return (
    <Dialog title="Delete message?" description={own ? 'It is removed for everyone in the conversation.' : 'You are deleting someone else’s message for everyone, as a group admin.'} onClose={onClose}>
      {m.body && <blockquote className="mb-4 line-clamp-3 rounded-xl bg-slate-900/5 px-3 py-2 text-sm dark:bg-white/8">{snippetOf(m.body)}</blockquote>}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button
          variant="danger"
          onClick={() => {
            onClose();
            onConfirm();
          }}
        >
          Delete
        </Button>
      </div>
    </Dialog>
  );
}
