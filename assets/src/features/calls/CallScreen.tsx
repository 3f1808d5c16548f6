import { Mic, MicOff, PhoneOff, SignalHigh, SignalLow, SignalMedium, Video, VideoOff } from 'lucide-react';
import { useEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import {
  callsSelectors,
  callStartedAt,
  callStatusText,
  conversationsSelectors,
  formatCallDuration,
} from '../../stores';
import { Avatar, avatarName, CallControl, cn } from '../../ui';
import { QUALITY_LABEL, type Quality } from './quality';
import { useCallMedia } from './useCallMedia';
import { useAppState, useServices } from '../services';

/**
 * The call: the other side's video large (or their avatar in an audio call), our own
 * camera small and mirrored, the state, the timer, a connection-quality hint and the
 * controls. Full screen on a phone; a large panel on a desktop.
 */
export default function CallScreen() {
  const { calls } = useServices();
  const state = useAppState(callsSelectors.state);
  const { call, phase, muted, cameraOff, audioOnly } = state;
  const status = callStatusText(state);
  const peer = useAppState((s) => (call ? conversationsSelectors.user(s, call.peerId) : undefined));
  const media = useCallMedia();
  const remoteRef = useRef<HTMLVideoElement>(null);
  const localRef = useRef<HTMLVideoElement>(null);
  const hangUpRef = useRef<HTMLButtonElement>(null);

  useStream(remoteRef, media.remote);
  useStream(localRef, media.local);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    hangUpRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  if (!call) return null;
  const name = peer?.display_name ?? 'Someone';
  const video = call.media === 'video';
  const ended = phase === 'ended';
  const connected = phase === 'connected';
  const remoteVideo = video && !ended && !!media.remote && media.remote.getVideoTracks().length > 0 && (phase === 'connected' || phase === 'connecting');
  const localVideo = video && !audioOnly && !!media.local && media.local.getVideoTracks().length > 0;
  const startedAt = connected ? callStartedAt(state) : null;
  // Our camera: the whole screen while it rings, a small picture once the call is up.
  const pip = remoteVideo || connected;

  return (
    <div className="fixed inset-0 z-50 flex items-stretch justify-center bg-slate-950/40 backdrop-blur-sm md:p-6">
      <div
        role="dialog"
        aria-modal="true"
        aria-label="Call"
        className="call-in relative flex w-full max-w-6xl flex-col overflow-hidden bg-slate-950 text-white md:rounded-[2rem] md:shadow-2xl md:ring-1 md:ring-white/10"
      >
        {/* The other side. In an audio call the element stays (it plays the sound) but is not seen. */}
        <video
          ref={remoteRef}
          data-testid="remote-video"
          autoPlay
          playsInline
          className={remoteVideo ? 'absolute inset-0 size-full bg-black object-cover' : 'pointer-events-none absolute size-px opacity-0'}
        />
        {!remoteVideo && (pip || ended || !localVideo) && (
          <div
            aria-hidden="true"
            className="absolute inset-0 grid place-items-center bg-[radial-gradient(40rem_30rem_at_50%_35%,oklch(0.42_0.16_277/0.9),transparent_70%),linear-gradient(160deg,oklch(0.2_0.04_270),oklch(0.14_0.03_250))]"
          >
            <Avatar name={avatarName(name)} seed={call.peerId} size="lg" className="size-28 text-4xl ring-4 ring-white/15 sm:size-36 sm:text-5xl" />
          </div>
        )}

        <header className="relative z-10 flex items-start gap-3 bg-gradient-to-b from-black/65 via-black/25 to-transparent px-5 pb-12 pt-[max(1.25rem,env(safe-area-inset-top))] sm:px-7">
          <div className="min-w-0 flex-1">
            <h2 className="truncate text-xl font-semibold tracking-tight sm:text-2xl">{name}</h2>
            <p className="mt-0.5 flex flex-wrap items-center gap-x-2 text-sm text-white/80">
              <span data-testid="call-status" aria-live="polite">
                {status}
              </span>
              {startedAt !== null && (
                <>
                  <span aria-hidden="true">·</span>
                  <CallTimer startedAt={startedAt} />
                </>
              )}
            </p>
          </div>
          {connected && media.quality && <QualityHint quality={media.quality} rttMs={media.rttMs} lossPct={media.lossPct} />}
        </header>

        {video && !ended && (pip || localVideo) && (
          <div
            className={cn(
              'absolute overflow-hidden bg-slate-800',
              pip
                ? 'right-4 top-[calc(max(1.25rem,env(safe-area-inset-top))+4.5rem)] z-10 aspect-[3/4] w-28 rounded-2xl shadow-xl ring-1 ring-white/20 sm:w-36 md:aspect-video md:w-60'
                : 'inset-0 z-0',
            )}
          >
            <video
              ref={localRef}
              data-testid="local-video"
              muted
              autoPlay
              playsInline
              aria-label="Your camera"
              className={cn('size-full -scale-x-100 object-cover', (!localVideo || cameraOff) && 'invisible')}
            />
            {(!localVideo || cameraOff) && pip && (
              <div className="absolute inset-0 grid place-items-center text-white/70">
                <VideoOff className="size-6" aria-hidden />
                <span className="sr-only">{audioOnly ? 'No camera' : 'Your camera is off'}</span>
              </div>
            )}
          </div>
        )}

        <div className="relative z-10 mt-auto flex items-center justify-center gap-4 bg-gradient-to-t from-black/70 via-black/30 to-transparent px-5 pb-[max(1.75rem,env(safe-area-inset-bottom))] pt-14 sm:gap-5">
          <CallControl
            label={muted ? 'Unmute microphone' : 'Mute microphone'}
            pressed={muted}
            disabled={ended}
            onClick={() => calls.toggleMic()}
          >
            {muted ? <MicOff className="size-6" aria-hidden /> : <Mic className="size-6" aria-hidden />}
          </CallControl>
          {video && (
            <CallControl
              label={cameraOff ? 'Turn camera on' : 'Turn camera off'}
              pressed={cameraOff}
              disabled={ended || audioOnly}
              onClick={() => calls.toggleCamera()}
            >
              {cameraOff || audioOnly ? <VideoOff className="size-6" aria-hidden /> : <Video className="size-6" aria-hidden />}
            </CallControl>
          )}
          <button
            ref={hangUpRef}
            type="button"
            aria-label="Hang up"
            title="Hang up"
            disabled={ended}
            onClick={() => calls.hangUp()}
            className="grid size-16 place-items-center rounded-full bg-rose-600 text-white shadow-lg shadow-rose-900/50 transition-[transform,background-color] duration-150 hover:scale-105 hover:bg-rose-500 active:scale-95 disabled:opacity-50 motion-reduce:hover:scale-100 motion-reduce:active:scale-100"
          >
            <PhoneOff className="size-7" aria-hidden />
          </button>
        </div>
      </div>
    </div>
  );
}

/** Shows a stream in a <video>, and keeps it playing when the stream changes. */
function useStream(ref: RefObject<HTMLVideoElement | null>, stream: MediaStream | null) {
  // After every render: the element may be new (the layout changed) while the stream is not.
  useEffect(() => {
    const el = ref.current;
    if (!el || el.srcObject === stream) return;
    el.srcObject = stream;
    if (stream) el.play().catch(() => undefined);
  });
}

function CallTimer({ startedAt }: { startedAt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  return (
    <span data-testid="call-timer" className="tabular-nums" aria-label={`Call time ${formatCallDuration(now - startedAt)}`}>
      {formatCallDuration(now - startedAt)}
    </span>
  );
}

const QUALITY_STYLE: Record<Quality, { icon: ReactNode; className: string }> = {
  good: { icon: <SignalHigh className="size-4" aria-hidden />, className: 'text-emerald-300' },
  fair: { icon: <SignalMedium className="size-4" aria-hidden />, className: 'text-amber-300' },
  poor: { icon: <SignalLow className="size-4" aria-hidden />, className: 'text-rose-300' },
};

function QualityHint({ quality, rttMs, lossPct }: { quality: Quality; rttMs: number | null; lossPct: number | null }) {
  const detail = [rttMs !== null ? `${rttMs} ms round trip` : null, lossPct !== null ? `${lossPct.toFixed(1)} % packet loss` : null]
    .filter(Boolean)
    .join(', ');
  return (
    <span
      data-testid="call-quality"
      data-quality={quality}
      title={detail || undefined}
      className={cn('inline-flex shrink-0 items-center gap-1.5 rounded-full bg-black/35 px-2.5 py-1 text-xs font-medium backdrop-blur', QUALITY_STYLE[quality].className)}
    >
      {QUALITY_STYLE[quality].icon}
      <span>
        <span className="sr-only">Connection quality: </span>
        {QUALITY_LABEL[quality]}
      </span>
    </span>
  );
}
