/**
 * One WebSocket to `/api/v1/ws`, kept alive: it knows nothing about chat, only how to stay
 * connected with a valid token and hand parsed events on.
 *
 * - Connects with the current access token (`?token=`); `open` means `ready` was received.
 * - Sends `{"type":"ping"}` every 25 s; a socket that then stays silent for 10 s is taken
 *   for dead (a half-open TCP connection never closes by itself) and replaced.
 * - Reconnects with exponential backoff and jitter (backoff.ts), longer after 4029.
 * - 4003 (token expired): refresh the token, then reconnect at once. A browser cannot see
 *   the HTTP status of a refused upgrade (401), so after a handshake that fails it asks
 *   `checkSession` — an authenticated REST call, which refreshes the token on 401 — before
 *   the next attempt.
 * - 4010 (account disabled): ask `checkSession` at once; its 401 ends the session (the
 *   refresh fails too), which stops this connection.
 * - While the browser reports no network it does not retry; `wake()` (online, tab visible)
 *   tries at once.
 * Every socket gets a generation number; callbacks of a replaced socket are ignored.
 */
import type { ConnectionStatus } from '../stores/connection/reducer';
import { backoffDelay, DEFAULT_BACKOFF, FLOODING_MIN_MS } from './backoff';
import { CloseCode, parseServerEvent, type ClientEvent, type ServerEvent } from './protocol';

export const PING_INTERVAL_MS = 25_000;
export const PONG_TIMEOUT_MS = 10_000;
export const READY_TIMEOUT_MS = 10_000;
/** Close code the client uses when it gives up on a silent socket. */
export const CLIENT_DEAD_SOCKET = 4000;

/** The part of the browser's WebSocket this module uses (a fake one in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ConnectionOptions {
  /** The socket URL for a token. */
  url(token: string): string;
  createSocket(url: string): SocketLike;
  getToken(): string | null;
  /** Gets a new access token (the HTTP client's silent refresh). */
  refreshToken(): Promise<unknown>;
  /** After a failed handshake: an authenticated REST call (refreshes the token on 401). */
  checkSession(): Promise<unknown>;
  isOnline(): boolean;
  onEvent(event: ServerEvent): void;
  onStatus(status: ConnectionStatus, info: { attempt: number; retryAt: number | null }): void;
  /** The socket is gone (the in-flight messages will not be acknowledged on it). */
  onDown?(): void;
  timers?: Timers;
  now?(): number;
  random?(): number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  readyTimeoutMs?: number;
}

const OPEN = 1;

/** While the browser reports no network, how often to try the server anyway. */
export const OFFLINE_PROBE_MS = 30_000;

export class GatewayConnection {
  private readonly o: ConnectionOptions;
  private readonly timers: Timers;
  private readonly now: () => number;
  private socket: SocketLike | null = null;
  private generation = 0;
  private started = false;
  private opened = false;
  private ready = false;
  private everReady = false;
  private attempt = 0;
  private tokenUsed: string | null = null;
  private lastFrameAt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private readyTimer: unknown = null;

  constructor(options: ConnectionOptions) {
    this.o = options;
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
  }

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.attempt = 0;
    this.everReady = false;
    this.connect();
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.clearRetry();
    this.dropSocket(CloseCode.normal, 'signed out');
    this.o.onStatus('idle', { attempt: 0, retryAt: null });
  }

  /** Sends an event if the connection is ready; false otherwise (the caller keeps it queued). */
  send(event: ClientEvent): boolean {
    if (!this.ready || !this.socket || this.socket.readyState !== OPEN) return false;
    try {
      this.socket.send(JSON.stringify(event));
      return true;
    } catch {
      return false;
    }
  }

  /** The network came back or the tab became visible: skip the rest of a backoff wait. */
  wake(): void {
    if (!this.started || this.socket) return;
    this.clearRetry();
    this.attempt = Math.min(this.attempt, 1);
    this.connect();
  }

  /** The browser lost the network: close now rather than wait for TCP to notice. */
  goOffline(): void {
    if (!this.started) return;
    this.clearRetry();
    if (this.socket) this.handleClose(this.generation, CLIENT_DEAD_SOCKET, true);
    else this.probeWhileOffline();
  }

  /** The browser says offline: show it, and try again every OFFLINE_PROBE_MS (or on wake). */
  private probeWhileOffline(): void {
    if (!this.started || this.socket) return;
    this.clearRetry();
    const retryAt = this.now() + OFFLINE_PROBE_MS;
    this.o.onStatus('offline', { attempt: this.attempt, retryAt });
    this.retryTimer = this.timers.setTimeout(() => this.connect(), OFFLINE_PROBE_MS);
  }

  private connect(): void {
    this.retryTimer = null;
    if (!this.started || this.socket) return;
    // `navigator.onLine === false` is only a hint: a server on this machine or on the LAN
    // may well be reachable. Try anyway; while "offline", failures retry slowly.
    const offline = !this.o.isOnline();
    const token = this.o.getToken();
    if (!token) {
      // Signed out, or the session is being refreshed: try to get a token, then retry.
      this.o.refreshToken().then(
        () => this.scheduleRetry(),
        () => this.scheduleRetry(),
      );
      return;
    }
    this.tokenUsed = token;
    this.opened = false;
    this.ready = false;
    const gen = ++this.generation;
    this.o.onStatus(offline ? 'offline' : this.everReady ? 'reconnecting' : 'connecting', {
      attempt: this.attempt,
      retryAt: null,
    });

    let socket: SocketLike;
    try {
      socket = this.o.createSocket(this.o.url(token));
    } catch {
      this.attempt += 1;
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (gen !== this.generation) return;
      this.opened = true;
      this.lastFrameAt = this.now();
      this.readyTimer = this.timers.setTimeout(() => {
        if (gen === this.generation && !this.ready) this.handleClose(gen, CLIENT_DEAD_SOCKET, true);
      }, this.o.readyTimeoutMs ?? READY_TIMEOUT_MS);
    };
    socket.onmessage = (ev) => {
      if (gen !== this.generation) return;
      this.lastFrameAt = this.now();
      const event = parseServerEvent(ev.data);
      if (!event) return;
      if (event.type === 'ready') {
        this.ready = true;
        this.everReady = true;
        this.attempt = 0;
        this.clear('readyTimer');
        this.schedulePing(gen);
        this.o.onStatus('open', { attempt: 0, retryAt: null });
      } else if (event.type === 'pong') {
        this.clear('pongTimer');
      }
      this.o.onEvent(event);
    };
    socket.onclose = (ev) => this.handleClose(gen, ev.code, false);
    socket.onerror = () => {
      // A close event always follows; nothing to do here.
    };
  }

  private schedulePing(gen: number): void {
    this.clear('pingTimer');
    this.pingTimer = this.timers.setTimeout(() => {
      if (gen !== this.generation || !this.ready) return;
      const sentAt = this.now();
      this.send({ type: 'ping' });
      this.clear('pongTimer');
      this.pongTimer = this.timers.setTimeout(() => {
        // Any frame since the ping proves the socket alive, not just the pong.
        if (gen === this.generation && this.lastFrameAt < sentAt) this.handleClose(gen, CLIENT_DEAD_SOCKET, true);
      }, this.o.pongTimeoutMs ?? PONG_TIMEOUT_MS);
      this.schedulePing(gen);
    }, this.o.pingIntervalMs ?? PING_INTERVAL_MS);
  }

  private handleClose(gen: number, code: number, closeSocket: boolean): void {
    if (gen !== this.generation || !this.socket) return;
    const wasReady = this.ready;
    const opened = this.opened;
    if (closeSocket) this.dropSocket(code === CLIENT_DEAD_SOCKET ? CLIENT_DEAD_SOCKET : CloseCode.normal, 'client closed');
    else this.forgetSocket();
    this.o.onDown?.();
    if (!this.started) return;

    // The server itself said so (even if the browser believes it is offline).
    if (code === CloseCode.accountDisabled) {
      this.attempt += 1;
      this.o.onStatus('reconnecting', { attempt: this.attempt, retryAt: null });
      this.o.checkSession().then(
        () => this.scheduleRetry(),
        () => this.scheduleRetry(),
      );
      return;
    }
    if (!this.o.isOnline()) {
      this.probeWhileOffline();
      return;
    }
    if (code === CloseCode.tokenExpired) {
      const stale = this.o.getToken() === this.tokenUsed;
      this.o.onStatus('reconnecting', { attempt: this.attempt, retryAt: null });
      (stale ? this.o.refreshToken() : Promise.resolve()).then(
        () => this.connect(),
        () => {
          this.attempt += 1;
          this.scheduleRetry();
        },
      );
      return;
    }
    if (!opened) {
      // Refused before the upgrade (a 401 looks like any network failure from here).
      this.attempt += 1;
      this.o.onStatus('reconnecting', { attempt: this.attempt, retryAt: null });
      this.o.checkSession().then(
        () => this.scheduleRetry(),
        () => this.scheduleRetry(),
      );
      return;
    }
    if (code === CloseCode.flooding) {
      this.attempt += 1;
      this.scheduleRetry(FLOODING_MIN_MS);
      return;
    }
    // A healthy connection that dropped comes back quickly; repeated drops back off.
    this.attempt = wasReady ? 0 : this.attempt + 1;
    this.scheduleRetry();
  }

  private scheduleRetry(minMs?: number): void {
    if (!this.started || this.socket) return;
    this.clearRetry();
    const delay = backoffDelay(this.attempt, this.o.random ?? Math.random, { ...DEFAULT_BACKOFF, minMs });
    const retryAt = this.now() + delay;
    this.o.onStatus(this.everReady || this.attempt > 0 ? 'reconnecting' : 'connecting', {
      attempt: this.attempt,
      retryAt,
    });
    this.retryTimer = this.timers.setTimeout(() => this.connect(), delay);
  }

  private dropSocket(code: number, reason: string): void {
    const s = this.socket;
    this.forgetSocket();
    if (!s) return;
    try {
      s.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  private forgetSocket(): void {
    const s = this.socket;
    this.generation += 1;
    this.socket = null;
    this.opened = false;
    this.ready = false;
    this.clear('pingTimer');
    this.clear('pongTimer');
    this.clear('readyTimer');
    if (s) {
      s.onopen = null;
      s.onmessage = null;
      s.onclose = null;
      s.onerror = null;
    }
  }

  private clearRetry(): void {
    this.clear('retryTimer');
  }

  private clear(name: 'retryTimer' | 'pingTimer' | 'pongTimer' | 'readyTimer'): void {
    if (this[name] !== null) this.timers.clearTimeout(this[name]);
    this[name] = null;
  }
}

/** `ws(s)://<host>/api/v1/ws?token=…` for the page's origin. */
export function socketUrl(location: Pick<Location, 'protocol' | 'host'>, path: string, token: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}?token=${encodeURIComponent(token)}`;
}
