import { useState } from 'react';
import { Dialog, SegmentedTabs, tabId, tabPanelId, type TabItem } from '../../ui';
import { InvitesPanel } from './InvitesPanel';
import { ServerPanel } from './ServerPanel';
import { UsersPanel } from './UsersPanel';

export type AdminTab = 'users' | 'invites' | 'server';

const TABS: ReadonlyArray<TabItem<AdminTab>> = [
  { id: 'users', label: 'Users' },
  { id: 'invites', label: 'Invites' },
  { id: 'server', label: 'Server' },
];

/** The admin page (administrators only; the server refuses everyone else). */
export default function AdminDialog({ onClose, initialTab = 'users' }: { onClose(): void; initialTab?: AdminTab }) {
  const [tab, setTab] = useState<AdminTab>(initialTab);
  return (
    <Dialog
      title="Administration"
      description="Accounts, invites and this server."
      onClose={onClose}
      className="w-[min(40rem,calc(100vw-1.5rem))] max-h-[min(48rem,calc(100dvh-2rem))]"
    >
      <SegmentedTabs<AdminTab> label="Administration sections" idPrefix="admin" tabs={TABS} value={tab} onChange={setTab} className="mb-4" />
      <div role="tabpanel" id={tabPanelId('admin', tab)} aria-labelledby={tabId('admin', tab)} className="flex min-h-0 flex-1 flex-col">
        {tab === 'users' && <UsersPanel />}
        {tab === 'invites' && <InvitesPanel />}
        {tab === 'server' && <ServerPanel />}
      </div>
    </Dialog>
  );
}
