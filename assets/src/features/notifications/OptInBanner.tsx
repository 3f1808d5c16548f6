import { AnimatePresence, m } from 'framer-motion';
import { BellRing, X } from 'lucide-react';
import { notificationsSelectors } from '../../stores';
import { Button } from '../../ui';
import { useAppState, useServices } from '../services';
import { shouldOfferOptIn } from './rules';

const permission = (): NotificationPermission => (typeof Notification !== 'undefined' ? Notification.permission : 'denied');

/**
 * The quiet offer to turn notifications on: never on a first load, only once the user has
 * sent a message or opened a second conversation; closed for good with ×.
 */
export function OptInBanner() {
  const services = useServices();
  const n = useAppState(notificationsSelectors.state);
  const shown = shouldOfferOptIn({
    supported: n.device !== 'unsupported' && n.device !== 'unknown',
    permission: permission(),
    enabled: n.device === 'push' || n.device === 'in-page',
    dismissed: n.optIn.dismissed,
    messagesSent: n.optIn.messagesSent,
    conversationsOpened: n.optIn.conversationsOpened,
  });
  return (
    <AnimatePresence initial={false}>
      {shown && (
        <m.section
          aria-label="Notifications"
          initial={{ opacity: 0, height: 0 }}
          animate={{ opacity: 1, height: 'auto' }}
          exit={{ opacity: 0, height: 0 }}
          className="overflow-hidden px-2"
        >
          <div className="mb-2 flex items-center gap-3 rounded-2xl bg-accent-500/10 px-3 py-2.5 ring-1 ring-accent-500/15 dark:bg-accent-400/10">
            <BellRing className="size-5 shrink-0 text-accent-600 dark:text-accent-300" aria-hidden />
            <p className="min-w-0 flex-1 text-[13px] font-medium text-slate-800 dark:text-slate-100">Get notified when Nexus is closed</p>
            <Button size="sm" onClick={() => void services.notifications.enable()} disabled={n.busy}>
              Enable
            </Button>
            <button
              type="button"
              aria-label="Not now"
              onClick={services.notifications.dismissOptIn}
              className="grid size-7 shrink-0 place-items-center rounded-lg text-slate-500 hover:bg-slate-900/5 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-white/10 dark:hover:text-white"
            >
              <X className="size-4" aria-hidden />
            </button>
          </div>
        </m.section>
      )}
    </AnimatePresence>
  );
}
