/**
 * The local camera and microphone of one call: getUserMedia with its fallbacks (a video
 * call without a camera goes on with audio) and the words for each failure, the mute and
 * camera-off switches applied to the tracks, and stopping every track at the end. A stream
 * that arrives after the call ended is stopped at once and never shown.
 */
import type { CallEnv, CallScope } from './deps';
import type { MediaViewStore } from './mediaView';

export const PERMISSION_DENIED = 'Camera/microphone permission was denied — allow it in the browser’s site settings';

type MediaEnv = Pick<CallEnv, 'getUserMedia' | 'notify' | 'store'>;

export class LocalMedia {
  /** The live local stream, once the browser gave it. */
  stream: MediaStream | null = null;
  /** Resolves to the local stream, or null if media could not be had (the call is ended then). */
  ready: Promise<MediaStream | null> = Promise.resolve(null);

  constructor(
    private readonly call: CallScope,
    private readonly env: MediaEnv,
    private readonly view: MediaViewStore,
  ) {}

  /** Asks for the camera/microphone; `ready` resolves to what `then` makes of the answer. */
  request(then: (stream: MediaStream | null) => MediaStream | null): void {
    this.ready = this.acquire().then(then);
  }

  /** Mute and camera off, as the calls slice has them, on the local tracks. */
  applyTrackState(): void {
    const stream = this.stream;
    if (!stream) return;
    const s = this.env.store.getState().calls;
    for (const t of stream.getAudioTracks()) t.enabled = !s.muted;
    for (const t of stream.getVideoTracks()) t.enabled = !s.cameraOff;
  }

  /** Stops every local track; the camera light goes off. */
  stop(): void {
    if (this.stream) stopTracks(this.stream);
    this.stream = null;
  }

  /** getUserMedia with the fallbacks and the words for each failure. Null: no media, the call cannot go on. */
  private async acquire(): Promise<MediaStream | null> {
    const { getUserMedia, notify } = this.env;
    const video = this.call.media === 'video';
    let stream: MediaStream | null = null;
    try {
      stream = await getUserMedia(video ? { audio: true, video: true } : { audio: true });
    } catch (err) {
      const name = errorName(err);
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        notify.error(PERMISSION_DENIED);
      } else if (video && (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError')) {
        notify.info(name === 'NotReadableError' ? 'The camera is in use by another app' : 'No camera found', 'The call goes on with audio only.');
        try {
          stream = await getUserMedia({ audio: true });
          if (!this.call.closed) this.env.store.getState().callsAudioOnly(this.call.callId);
        } catch (again) {
          const n = errorName(again);
          notify.error(n === 'NotAllowedError' ? PERMISSION_DENIED : n === 'NotFoundError' ? 'No microphone found' : 'Could not start the microphone');
        }
      } else if (name === 'NotFoundError' || name === 'OverconstrainedError') {
        notify.error('No microphone found');
      } else if (name === 'Unsupported') {
        notify.error('Calls need a secure connection', 'Open Nexus over HTTPS to use the camera and microphone.');
      } else {
        notify.error('Could not start the camera or microphone', err instanceof Error ? err.message : undefined);
      }
    }
    if (!stream) return null;
    if (this.call.closed) {
      // The call ended while the browser was asking: this stream never goes live.
      stopTracks(stream);
      return null;
    }
    this.stream = stream;
    this.applyTrackState();
    this.view.publish({ local: stream });
    return stream;
  }
}

function stopTracks(stream: MediaStream): void {
  for (const t of stream.getTracks()) t.stop();
}

function errorName(err: unknown): string {
  if (err && typeof err === 'object' && 'name' in err && typeof err.name === 'string') return err.name;
  return '';
}
