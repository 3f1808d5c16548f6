import { AnimatePresence, m } from 'framer-motion';
import { WifiOff } from 'lucide-react';
import { useEffect, useState } from 'react';
import { connectionSelectors } from '../../stores';
import type { Banner } from '../../stores/connection/selectors';
import { Spinner } from '../../ui';
import { useAppState } from '../services';

/** A blip shorter than this never shows the "Reconnecting…" banner. */
const RECONNECTING_GRACE_MS = 1_500;

/** A small, non-blocking pill at the top while the socket is down. */
export function ConnectionBanner() {
  const banner = useAppState(connectionSelectors.banner);
  const shown = useDelayedBanner(banner);

  return (
    // Below the chat header on a phone; in the gap above the panels on a wide screen.
    <div className="pointer-events-none fixed inset-x-0 top-[calc(env(safe-area-inset-top)+4.5rem)] z-40 flex justify-center px-4 md:top-1">
      <div role="status" aria-live="polite">
        <AnimatePresence>
          {shown && (
            <m.p
              key={shown.tone}
              initial={{ opacity: 0, y: -8 }}
              animate={{ opacity: 1, y: 0 }}
              exit={{ opacity: 0, y: -8 }}
              transition={{ duration: 0.2 }}
              className="glass pointer-events-auto flex items-center gap-2 rounded-full px-3.5 py-1.5 text-[13px] font-medium text-slate-800 dark:text-slate-100"
            >
              {shown.tone === 'offline' ? (
                <WifiOff className="size-4 text-amber-600 dark:text-amber-400" aria-hidden />
              ) : (
                <Spinner className="text-accent-600 dark:text-accent-300" />
              )}
              {shown.text}
            </m.p>
          )}
        </AnimatePresence>
      </div>
    </div>
  );
}

function useDelayedBanner(banner: Banner) {
  const [shown, setShown] = useState(banner);
  useEffect(() => {
    if (!banner) {
      setShown(null);
      return;
    }
    if (banner.tone === 'offline') {
      setShown(banner);
      return;
    }
    const t = setTimeout(() => setShown(banner), RECONNECTING_GRACE_MS);
    return () => clearTimeout(t);
  }, [banner]);
  return shown;
}
