/**
 * The HTTP transport of the web client: JSON over fetch, Bearer auth, and silent refresh.
 *
 * Invariants:
 * - The refresh token never reaches JavaScript: it lives in the HttpOnly cookie
 *   `nexus_refresh` (Path=/api/v1/auth), sent because every call uses
 *   `credentials: 'same-origin'`. The access token lives in memory only.
 * - At most one refresh is in flight per tab: concurrent 401s await the same promise, and
 *   across tabs refreshes are serialised with a Web Lock so two tabs never present the same
 *   (rotating) cookie at once.
 * - A request is retried at most once after a 401, so a server that keeps answering 401
 *   cannot make the client loop.
 * - The session is refreshed proactively ~60 s before the access token expires.
 */
import { ApiError, errorFromResponse } from './errors';
import type { AuthResponse } from './types';

export const API_PREFIX = '/api/v1';
const REFRESH_PATH = '/auth/refresh';
/** Refresh this long before the access token runs out. */
export const REFRESH_LEAD_MS = 60_000;
/** After a failed proactive refresh that was not a 401 (offline, 5xx), try again after this. */
export const REFRESH_RETRY_MS = 15_000;

export interface SessionHooks {
  /** The access token to send, or null when signed out. */
  getAccessToken(): string | null;
  /** A session began or was refreshed: store the new token and user. */
  onSession(auth: AuthResponse): void;
  /** The refresh cookie was rejected: the session is over. */
  onSessionLost(): void;
}

export interface HttpClientOptions {
  session: SessionHooks;
  /** Origin + prefix; defaults to same-origin `/api/v1`. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Serialises a refresh across tabs; defaults to `navigator.locks` where available. */
  lock?: <T>(run: () => Promise<T>) => Promise<T>;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Send the Bearer token and refresh once on 401. False for the auth endpoints. */
  auth?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (e.g. `Idempotency-Key`). */
  headers?: Record<string, string>;
}

export interface HttpClient {
  request<T>(path: string, options?: RequestOptions): Promise<T>;
  /** Exchanges the refresh cookie for a new session; concurrent callers share one call. */
  refresh(): Promise<AuthResponse>;
  /** Adopts a session from login/register/refresh and schedules its proactive refresh. */
  startSession(auth: AuthResponse): void;
  /** Forgets the schedule (sign-out). */
  endSession(): void;
  /** Call when the page becomes visible or comes online: refreshes if the token is (nearly) stale. */
  wake(): void;
  /** The access token to send now (for transports other than fetch, e.g. an upload's XHR). */
  accessToken(): string | null;
  /** Origin + prefix every path is joined to. */
  readonly baseUrl: string;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { session } = options;
  const baseUrl = options.baseUrl ?? API_PREFIX;
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const lock = options.lock ?? defaultLock;

  let inflightRefresh: Promise<AuthResponse> | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Epoch ms at which the current access token expires; null when signed out. */
  let expiresAt: number | null = null;
  /** Bumped by endSession: a refresh that was in flight across a sign-out must not revive it. */
  let generation = 0;

  async function send(path: string, opts: RequestOptions, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await doFetch(baseUrl + path, {
        method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        credentials: 'same-origin',
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new ApiError(0, 'network_error', undefined, err);
    }
  }

  async function parse<T>(res: Response): Promise<T> {
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204 || res.headers.get('content-length') === '0') return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth ?? true;
    if (!auth) return parse<T>(await send(path, opts, null));

    const tokenUsed = session.getAccessToken();
    const first = await send(path, opts, tokenUsed);
    if (first.status !== 401) return parse<T>(first);

    // Another request may already have refreshed while this one was on the wire: then the
    // current token is newer than the one we sent and a retry needs no refresh of its own.
    const current = session.getAccessToken();
    const token = current && current !== tokenUsed ? current : (await refresh()).access_token;
    return parse<T>(await send(path, opts, token));
  }

  function refresh(): Promise<AuthResponse> {
    if (!inflightRefresh) {
      const startedIn = generation;
      inflightRefresh = lock(async () => {
        const res = await send(REFRESH_PATH, { method: 'POST', body: {} }, null);
        if (res.status === 401) {
          const err = await errorFromResponse(res);
          if (startedIn === generation) loseSession();
          throw err;
        }
        const auth = await parse<AuthResponse>(res);
        if (startedIn !== generation) throw new ApiError(401, 'unauthorized');
        startSession(auth);
        return auth;
      }).finally(() => {
        inflightRefresh = null;
      });
    }
    return inflightRefresh;
  }

  function startSession(auth: AuthResponse): void {
    expiresAt = Date.now() + auth.expires_in * 1000;
    session.onSession(auth);
    schedule(refreshDelayMs(auth.expires_in));
  }

  function endSession(): void {
    generation += 1;
    expiresAt = null;
    clearTimer();
  }

  function loseSession(): void {
    endSession();
    session.onSessionLost();
  }

  function schedule(delayMs: number): void {
    clearTimer();
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refresh().catch((err: unknown) => {
        // A 401 already ended the session; anything else (offline, 5xx) is retried while
        // the token is still worth saving.
        if (err instanceof ApiError && err.status === 401) return;
        if (expiresAt !== null) schedule(REFRESH_RETRY_MS);
      });
    }, delayMs);
  }

  function clearTimer(): void {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = null;
  }

  function wake(): void {
    // Background tabs throttle timers; on return, refresh at once if the token is due.
    if (expiresAt !== null && expiresAt - Date.now() <= REFRESH_LEAD_MS) {
      refresh().catch(() => {
        if (expiresAt !== null) schedule(REFRESH_RETRY_MS);
      });
    }
  }

  return { request, refresh, startSession, endSession, wake, accessToken: () => session.getAccessToken(), baseUrl };
}

/** When to refresh a token that lives `expiresInSec`: a minute early, but never before half-life. */
export function refreshDelayMs(expiresInSec: number): number {
  const lifetime = Math.max(0, expiresInSec) * 1000;
  return Math.max(lifetime - REFRESH_LEAD_MS, lifetime / 2, 1000);
}

function defaultLock<T>(run: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks?.request) return run();
  return locks.request('nexus-auth-refresh', run) as Promise<T>;
}
