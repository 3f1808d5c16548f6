import { useState } from 'react';
import type { Conversation } from '../../api';
import { Button, Dialog } from '../../ui';
import { leaveConversation } from '../conversations/actions';
import { useServices } from '../services';

/** Asks before leaving a group. */
export default function LeaveDialog({ conversation: c, title, onClose }: { conversation: Conversation; title: string; onClose(): void }) {
  const services = useServices();
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={`Leave ${title}?`} description="You will stop getting its messages. Someone in the group can add you back." onClose={onClose}>
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={onClose} autoFocus>
          Cancel
        </Button>
        <Button
          variant="danger"
          loading={busy}
          onClick={async () => {
            setBusy(true);
            await leaveConversation(services, c.id, title);
            onClose();
          }}
        >
          Leave group
        </Button>
      </div>
    </Dialog>
  );
}
