import { AnimatePresence, m } from 'framer-motion';
import { Mic, MicOff, MonitorOff, MonitorUp, PhoneOff, Settings2, Video, VideoOff } from 'lucide-react';
import { useEffect, useId, useRef, useState } from 'react';
import type { RoomSession } from '../../stores';
import { CallControl } from '../../ui';
import { useServices } from '../services';
import type { RoomMediaView } from './mediaView';

/** A control of the group call view: the shared call control, smaller on phones. */
export function ControlButton(props: Parameters<typeof CallControl>[0]) {
  return <CallControl compact {...props} />;
}

/** The microphone and camera pickers, in a small panel above the controls. */
function DevicePicker({ media, onClose }: { media: RoomMediaView; onClose(): void }) {
  const { rooms } = useServices();
  const [devices, setDevices] = useState<MediaDeviceInfo[] | null>(null);
  const panel = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    let live = true;
    void rooms.listDevices().then((d) => live && setDevices(d));
    return () => {
      live = false;
    };
  }, [rooms]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    const onDown = (e: PointerEvent) => {
      if (!panel.current?.contains(e.target as Node) && !(e.target as Element | null)?.closest?.('[data-device-trigger]')) onClose();
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onDown);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onDown);
    };
  }, [onClose]);
  const pick = (kind: 'audioinput' | 'videoinput', label: string) => {
    const list = (devices ?? []).filter((d) => d.kind === kind && d.deviceId);
    const current = media.devices[kind] ?? '';
    return (
      <label className="flex flex-col gap-1.5 text-xs font-medium text-white/70" htmlFor={`${id}-${kind}`}>
        {label}
        <select
          id={`${id}-${kind}`}
          value={list.some((d) => d.deviceId === current) ? current : ''}
          disabled={list.length === 0}
          onChange={(e) => void rooms.switchDevice(kind, e.target.value)}
          className="w-full rounded-xl border border-white/10 bg-white/10 px-3 py-2 text-sm text-white outline-none focus-visible:ring-2 focus-visible:ring-accent-400 disabled:opacity-50 [&>option]:text-slate-900"
        >
          {list.length === 0 && <option value="">{devices ? 'None found' : 'Loading…'}</option>}
          {list.length > 0 && !list.some((d) => d.deviceId === current) && <option value="">Default</option>}
          {list.map((d, i) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label || `${label} ${i + 1}`}
            </option>
          ))}
        </select>
      </label>
    );
  };
  return (
    <m.div
      ref={panel}
      role="dialog"
      aria-label="Devices"
      initial={{ opacity: 0, y: 8, scale: 0.98 }}
      animate={{ opacity: 1, y: 0, scale: 1 }}
      exit={{ opacity: 0, y: 8, scale: 0.98 }}
      transition={{ duration: 0.16 }}
      className="absolute bottom-full left-1/2 z-20 mb-3 flex w-[min(20rem,calc(100vw-2rem))] -translate-x-1/2 flex-col gap-3 rounded-2xl bg-slate-900/95 p-4 shadow-2xl ring-1 ring-white/10 backdrop-blur"
    >
      {pick('audioinput', 'Microphone')}
      {pick('videoinput', 'Camera')}
    </m.div>
  );
}

/** Microphone, camera, screen share, devices and leave. */
export function RoomControls({ session, media }: { session: RoomSession; media: RoomMediaView }) {
  const { rooms } = useServices();
  const [devicesOpen, setDevicesOpen] = useState(false);
  const leaveRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    leaveRef.current?.focus();
    return () => previous?.focus?.();
  }, []);
  const { muted, cameraOff, noCamera, screenSharing } = session;
  return (
    <div className="relative flex items-center justify-center gap-3 sm:gap-4">
      <ControlButton label={muted ? 'Unmute microphone' : 'Mute microphone'} pressed={muted} onClick={() => rooms.toggleMic()}>
        {muted ? <MicOff className="size-6" aria-hidden /> : <Mic className="size-6" aria-hidden />}
      </ControlButton>
      <ControlButton
        label={cameraOff || noCamera ? 'Turn camera on' : 'Turn camera off'}
        pressed={cameraOff || noCamera}
        disabled={noCamera}
        onClick={() => rooms.toggleCamera()}
      >
        {cameraOff || noCamera ? <VideoOff className="size-6" aria-hidden /> : <Video className="size-6" aria-hidden />}
      </ControlButton>
      {rooms.canShareScreen() && (
        <ControlButton
          label={screenSharing ? 'Stop sharing the screen' : 'Share the screen'}
          pressed={screenSharing}
          disabled={session.phase === 'joining'}
          onClick={() => void rooms.toggleScreenShare()}
        >
          {screenSharing ? <MonitorOff className="size-6" aria-hidden /> : <MonitorUp className="size-6" aria-hidden />}
        </ControlButton>
      )}
      <span data-device-trigger="">
        <ControlButton label="Camera and microphone" pressed={devicesOpen} onClick={() => setDevicesOpen((o) => !o)}>
          <Settings2 className="size-6" aria-hidden />
        </ControlButton>
      </span>
      <button
        ref={leaveRef}
        type="button"
        aria-label="Leave call"
        title="Leave call"
        onClick={() => rooms.leave()}
        className="grid h-12 w-16 shrink-0 place-items-center rounded-full bg-rose-600 text-white shadow-lg shadow-rose-900/50 transition-[transform,background-color] duration-150 hover:scale-105 hover:bg-rose-500 active:scale-95 motion-reduce:hover:scale-100 motion-reduce:active:scale-100 sm:h-14 sm:w-20"
      >
        <PhoneOff className="size-6" aria-hidden />
      </button>
      <AnimatePresence>{devicesOpen && <DevicePicker media={media} onClose={() => setDevicesOpen(false)} />}</AnimatePresence>
    </div>
  );
}
