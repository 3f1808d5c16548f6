import { Phone, PhoneOff, Video } from 'lucide-react';
import { useEffect, useId, useRef } from 'react';
import { callsSelectors, callStatusText, conversationsSelectors } from '../../stores';
import { Avatar, avatarName, cn } from '../../ui';
import { useAppState, useServices } from '../services';

/**
 * The incoming call: who, audio or video, Accept and Decline. The avatar rings visually
 * (there is no ringtone); with reduced motion the rings stand still.
 */
export function IncomingCall() {
  const { calls } = useServices();
  const call = useAppState(callsSelectors.call);
  const status = useAppState((s) => callStatusText(s.calls));
  const phase = useAppState(callsSelectors.phase);
  const accepting = useAppState((s) => s.calls.accepting);
  const peer = useAppState((s) => (call ? conversationsSelectors.user(s, call.peerId) : undefined));
  const acceptRef = useRef<HTMLButtonElement>(null);
  const id = useId();

  useEffect(() => {
    // The call screen is likely next: load it while the user decides.
    void import('./CallScreen');
    const previous = document.activeElement as HTMLElement | null;
    acceptRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  const name = peer?.display_name ?? 'Someone';
  const ringing = phase === 'receiving' && !accepting;

  // No ringtone: a background tab says it in its title instead.
  useEffect(() => {
    if (!ringing) return;
    const title = document.title;
    document.title = `📞 ${name} is calling…`;
    return () => {
      document.title = title;
    };
  }, [ringing, name]);

  if (!call) return null;
  const video = call.media === 'video';

  return (
    <div className="fixed inset-0 z-50 flex items-stretch justify-center bg-slate-900/30 backdrop-blur-[3px] sm:items-center sm:p-6">
      <div
        role="dialog"
        aria-modal="true"
        aria-label="Incoming call"
        aria-describedby={`${id}-status`}
        className={cn(
          'glass call-in flex w-full flex-col items-center justify-between gap-8 px-6 pb-[max(2.5rem,env(safe-area-inset-bottom))] pt-[max(4rem,env(safe-area-inset-top))] text-center',
          'bg-white/80 dark:bg-slate-900/85 sm:w-[min(24rem,100%)] sm:justify-center sm:rounded-[2rem] sm:py-10',
        )}
      >
        <div className="flex flex-col items-center">
          <div className="relative grid size-32 place-items-center">
            {ringing && (
              <>
                <span aria-hidden="true" className="call-ring absolute inset-4 rounded-full bg-emerald-400/60" />
                <span aria-hidden="true" className="call-ring call-ring-delayed absolute inset-4 rounded-full bg-emerald-400/60" />
              </>
            )}
            <Avatar name={avatarName(name)} seed={call.peerId} size="lg" className="relative size-24 text-3xl" />
          </div>
          <h2 className="mt-5 max-w-full truncate text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{name}</h2>
          <p
            id={`${id}-status`}
            data-testid="call-status"
            aria-live="polite"
            className="mt-1 inline-flex items-center gap-1.5 text-sm font-medium text-slate-600 dark:text-slate-300"
          >
            {video ? <Video className="size-4" aria-hidden /> : <Phone className="size-4" aria-hidden />}
            {status}
          </p>
        </div>

        {phase === 'receiving' && (
          <div className="flex items-start justify-center gap-14">
            <RoundButton label="Decline call" caption="Decline" tone="danger" onClick={() => calls.decline()}>
              <PhoneOff className="size-7" aria-hidden />
            </RoundButton>
            <RoundButton
              ref={acceptRef}
              label="Accept call"
              caption={video ? 'Accept video' : 'Accept'}
              tone="accept"
              disabled={accepting}
              onClick={() => calls.accept()}
            >
              {video ? <Video className="size-7" aria-hidden /> : <Phone className="size-7" aria-hidden />}
            </RoundButton>
          </div>
        )}
      </div>
    </div>
  );
}

interface RoundButtonProps {
  label: string;
  caption: string;
  tone: 'accept' | 'danger';
  disabled?: boolean;
  onClick(): void;
  children: React.ReactNode;
  ref?: React.Ref<HTMLButtonElement>;
}

function RoundButton({ label, caption, tone, disabled, onClick, children, ref }: RoundButtonProps) {
  return (
    <span className="flex flex-col items-center gap-2">
      <button
        ref={ref}
        type="button"
        aria-label={label}
        disabled={disabled}
        onClick={onClick}
        className={cn(
          'grid size-16 place-items-center rounded-full text-white shadow-lg transition-[transform,background-color] duration-150',
          'hover:scale-105 active:scale-95 motion-reduce:hover:scale-100 motion-reduce:active:scale-100 disabled:opacity-60',
          tone === 'accept' ? 'bg-emerald-500 shadow-emerald-600/40 hover:bg-emerald-400' : 'bg-rose-600 shadow-rose-700/40 hover:bg-rose-500',
        )}
      >
        {children}
      </button>
      <span aria-hidden="true" className="text-xs font-medium text-slate-600 dark:text-slate-300">
        {caption}
      </span>
    </span>
  );
}
