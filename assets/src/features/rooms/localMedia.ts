/**
 * Our camera, microphone and screen in a room: getUserMedia with the fallbacks (a video
 * join without a camera goes on with audio; without a microphone too, the user still sees
 * and hears the others), the camera turned on later in an audio join, another camera or
 * microphone picked mid-call, the screen capture, and stopping every track at the end. A
 * track that arrives after the session ended is stopped at once.
 */
import { PERMISSION_DENIED } from '../calls/localMedia';
import type { RoomEnv, RoomScope } from './deps';

/** What the camera is asked for: enough for three simulcast layers, not more (CPU). */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 960 },
  height: { ideal: 540 },
  frameRate: { ideal: 24, max: 30 },
};

type MediaEnv = Pick<RoomEnv, 'getUserMedia' | 'getDisplayMedia' | 'notify' | 'createMediaStream'>;

export function errorName(err: unknown): string {
  if (err && typeof err === 'object' && 'name' in err && typeof err.name === 'string') return err.name;
  return '';
}

export class RoomLocalMedia {
  microphone: MediaStreamTrack | null = null;
  camera: MediaStreamTrack | null = null;
  screen: MediaStreamTrack | null = null;
  /** The stream our send tracks are announced in (msid). */
  readonly stream: MediaStream;

  constructor(
    private readonly scope: RoomScope,
    private readonly env: MediaEnv,
  ) {
    this.stream = env.createMediaStream([]);
  }

  /** Asks for the microphone (and the camera for a video join). Resolves to whether a camera is there. */
  async acquire(video: boolean): Promise<{ camera: boolean }> {
    const { getUserMedia, notify } = this.env;
    let got: MediaStream | null = null;
    try {
      got = await getUserMedia(video ? { audio: true, video: CAMERA_CONSTRAINTS } : { audio: true });
    } catch (err) {
      const name = errorName(err);
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        notify.error(PERMISSION_DENIED, 'You can still see and hear the others.');
      } else if (name === 'Unsupported') {
        notify.error('Calls need a secure connection', 'Open Nexus over HTTPS to use the camera and microphone.');
      } else if (video) {
        // No camera (or it is busy): go on with the microphone.
        notify.info(name === 'NotReadableError' ? 'The camera is in use by another app' : 'No camera found', 'You join with audio only.');
        try {
          got = await getUserMedia({ audio: true });
        } catch {
          notify.error('Could not start the microphone', 'You can still see and hear the others.');
        }
      } else {
        notify.error(name === 'NotFoundError' ? 'No microphone found' : 'Could not start the microphone', 'You can still see and hear the others.');
      }
    }
    if (!got) return { camera: false };
    if (this.scope.closed) {
      for (const t of got.getTracks()) t.stop();
      return { camera: false };
    }
    this.microphone = got.getAudioTracks()[0] ?? null;
    this.camera = got.getVideoTracks()[0] ?? null;
    for (const t of got.getTracks()) this.stream.addTrack(t);
    return { camera: this.camera !== null };
  }

  /** The camera, asked for now (an audio join turning it on). Null if it cannot be had. */
  async startCamera(deviceId?: string): Promise<MediaStreamTrack | null> {
    try {
      const got = await this.env.getUserMedia({ video: deviceId ? { ...CAMERA_CONSTRAINTS, deviceId: { exact: deviceId } } : CAMERA_CONSTRAINTS });
      const track = got.getVideoTracks()[0] ?? null;
      if (!track || this.scope.closed) {
        for (const t of got.getTracks()) t.stop();
        return null;
      }
      this.setTrack('camera', track);
      return track;
    } catch (err) {
      const name = errorName(err);
      this.env.notify.error(name === 'NotAllowedError' ? PERMISSION_DENIED : name === 'NotFoundError' ? 'No camera found' : 'Could not start the camera');
      return null;
    }
  }

  /** Another microphone or camera: the new track (the old one is stopped by `setTrack`). */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<MediaStreamTrack | null> {
    const audio = kind === 'audioinput';
    try {
      const got = await this.env.getUserMedia(
        audio ? { audio: { deviceId: { exact: deviceId } } } : { video: { ...CAMERA_CONSTRAINTS, deviceId: { exact: deviceId } } },
      );
      const track = (audio ? got.getAudioTracks() : got.getVideoTracks())[0] ?? null;
      if (!track || this.scope.closed) {
        for (const t of got.getTracks()) t.stop();
        return null;
      }
      return track;
    } catch (err) {
      this.env.notify.error(audio ? 'Could not switch the microphone' : 'Could not switch the camera', err instanceof Error ? err.message : undefined);
      return null;
    }
  }

  /** Puts `track` in place of the current one of its kind, stopping the old one. */
  setTrack(source: 'microphone' | 'camera', track: MediaStreamTrack): void {
    const old = this[source];
    if (old && old !== track) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this[source] = track;
    if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track);
  }

  /** The screen (or a window or tab), as the browser's picker gives it. Null: cancelled or not possible. */
  async startScreen(): Promise<MediaStreamTrack | null> {
    if (!this.env.getDisplayMedia) {
      this.env.notify.error('Screen sharing is not available in this browser');
      return null;
    }
    try {
      const got = await this.env.getDisplayMedia({ video: true, audio: false });
      const track = got.getVideoTracks()[0] ?? null;
      for (const t of got.getTracks()) if (t !== track) t.stop();
      if (!track || this.scope.closed) {
        track?.stop();
        return null;
      }
      this.screen = track;
      return track;
    } catch (err) {
      // The user closed the picker: nothing to say.
      if (errorName(err) !== 'NotAllowedError' && errorName(err) !== 'AbortError') {
        this.env.notify.error('Could not share the screen', err instanceof Error ? err.message : undefined);
      }
      return null;
    }
  }

  stopScreen(): void {
    this.screen?.stop();
    this.screen = null;
  }

  /** Mute and camera off on the tracks. */
  apply(muted: boolean, cameraOff: boolean): void {
    if (this.microphone) this.microphone.enabled = !muted;
    if (this.camera) this.camera.enabled = !cameraOff;
  }

  /** Stops every track; the camera light goes off. */
  stop(): void {
    for (const t of [this.microphone, this.camera, this.screen]) t?.stop();
    this.microphone = this.camera = this.screen = null;
  }
}
