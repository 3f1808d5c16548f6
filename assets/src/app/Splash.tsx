import { m } from 'framer-motion';
import { ConnectionBanner } from '../features/connection/ConnectionBanner';
import { Logo, Spinner } from '../ui';

/** Shown while the refresh cookie is tried at start-up (usually a blink; offline, with the connection banner). */
export function Splash() {
  return (
    <>
      <ConnectionBanner />
      <m.div
        className="flex min-h-dvh flex-col items-center justify-center gap-5"
        initial={{ opacity: 0 }}
        animate={{ opacity: 1, transition: { delay: 0.15, duration: 0.3 } }}
        exit={{ opacity: 0, transition: { duration: 0.15 } }}
      >
        <Logo className="size-14" />
        <div className="text-slate-500 dark:text-slate-400">
          <Spinner label="Loading Nexus" className="size-5" />
        </div>
      </m.div>
    </>
  );
}
