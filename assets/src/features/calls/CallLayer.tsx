import { AnimatePresence, m } from 'framer-motion';
import { MonitorSmartphone } from 'lucide-react';
import { lazy, Suspense, useState } from 'react';
import { callsSelectors, type CallPhase } from '../../stores';
import { Spinner } from '../../ui';
import { IncomingCall } from './IncomingCall';
import { useAppState } from '../services';

// The in-call view (video, controls, stats) loads with the first call.
const CallScreen = lazy(() => import('./CallScreen'));

type Surface = 'incoming' | 'call' | null;

function surfaceFor(phase: CallPhase): Surface | undefined {
  switch (phase) {
    case 'receiving':
      return 'incoming';
    case 'calling':
    case 'connecting':
    case 'connected':
      return 'call';
    case 'idle':
      return null;
    case 'ended':
      return undefined; // "Call ended: …" stays where the call was
  }
}

/** Whatever the call needs on screen: the incoming call, the call itself, or a hint. */
export function CallLayer() {
  const phase = useAppState(callsSelectors.phase);
  const elsewhere = useAppState(callsSelectors.elsewhere);
  const [surface, setSurface] = useState<Surface>(null);
  const wanted = surfaceFor(phase);
  const shown = wanted === undefined ? (surface ?? 'call') : wanted;
  if (shown !== surface) setSurface(shown);

  return (
    <>
      {shown === 'incoming' && <IncomingCall />}
      {shown === 'call' && (
        <Suspense
          fallback={
            <div role="dialog" aria-label="Call" className="fixed inset-0 z-50 grid place-items-center bg-slate-950/80 text-white">
              <Spinner label="Starting the call" className="size-6" />
            </div>
          }
        >
          <CallScreen />
        </Suspense>
      )}
      <div className="pointer-events-none fixed inset-x-0 bottom-[calc(env(safe-area-inset-bottom)+5rem)] z-30 flex justify-center px-4 md:bottom-4">
        <div role="status" aria-live="polite">
          <AnimatePresence>
            {phase === 'idle' && elsewhere && (
              <m.p
                key="elsewhere"
                initial={{ opacity: 0, y: 8 }}
                animate={{ opacity: 1, y: 0 }}
                exit={{ opacity: 0, y: 8 }}
                transition={{ duration: 0.2 }}
                data-testid="call-elsewhere"
                className="glass flex items-center gap-2 rounded-full px-3.5 py-1.5 text-[13px] font-medium text-slate-700 dark:text-slate-200"
              >
                <MonitorSmartphone className="size-4 text-emerald-600 dark:text-emerald-400" aria-hidden />
                {elsewhere.state === 'ringing' ? 'Calling on another device…' : 'In a call on another device'}
              </m.p>
            )}
          </AnimatePresence>
        </div>
      </div>
    </>
  );
}
