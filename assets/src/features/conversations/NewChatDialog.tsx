import { useState } from 'react';
import { toast } from 'sonner';
import { describeError, type User } from '../../api';
import { Dialog, TextField } from '../../ui';
import { useServices } from '../services';
import { startDirectChat } from './actions';
import { PersonButton, SearchState } from './PersonButton';
import { useUserSearch } from './useUserSearch';

/** "New chat": find a person and open (or create) the direct conversation with them. */
export default function NewChatDialog({ onClose }: { onClose(): void }) {
  const services = useServices();
  const [query, setQuery] = useState('');
  const { results, status, error } = useUserSearch(query);
  const [busy, setBusy] = useState<string | null>(null);

  const start = async (user: User) => {
    setBusy(user.id);
    try {
      await startDirectChat(services, user.id);
      onClose();
    } catch (err) {
      toast.error('Could not start the chat', { description: describeError(err) });
      setBusy(null);
    }
  };

  return (
    <Dialog title="New chat" description="Find someone by name or username." onClose={onClose}>
      <TextField
        label="Search people"
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Name or username"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus
      />
      <div className="-mx-2 mt-3 min-h-24 overflow-y-auto">
        <SearchState status={status} error={error} count={results.length} query={query} />
        {results.length > 0 && (
          <ul role="list" aria-label="People" className="flex flex-col gap-0.5">
            {results.map((u) => (
              <li key={u.id}>
                <PersonButton
                  user={u}
                  label={`Chat with ${u.display_name} (@${u.username})`}
                  busy={busy === u.id}
                  onClick={() => void start(u)}
                />
              </li>
            ))}
          </ul>
        )}
      </div>
    </Dialog>
  );
}
