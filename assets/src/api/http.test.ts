import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNexusApi } from './endpoints';
import { ApiError } from './errors';
import { createHttpClient, refreshDelayMs, REFRESH_RETRY_MS, type SessionHooks } from './http';
import type { AuthResponse, User } from './types';

// ---- a stubbed fetch -------------------------------------------------------------------

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

type Handler = (call: Call) => Response | Promise<Response>;

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
}

function problem(status: number, code: string, detail: string): Response {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code }, 'application/problem+json');
}

/** A fetch whose answers come from `routes`; a handler may be async to hold a response back. */
function stubFetch(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      credentials: init?.credentials,
    };
    calls.push(call);
    const handler = routes[`${call.method} ${call.url}`];
    if (!handler) throw new Error(`unexpected ${call.method} ${call.url}`);
    return handler(call);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls, count: (m: string, u: string) => calls.filter((c) => c.method === m && c.url === u).length };
}

const user: User = {
  id: '0190f3a2-0000-7000-8000-000000000001',
  username: 'ada',
  display_name: 'Ada',
  is_admin: false,
  created_at: '2025-01-01T00:00:00Z',
};

const authWith = (token: string, expires_in = 900): AuthResponse => ({
  user,
  access_token: token,
  token_type: 'Bearer',
  expires_in,
});

/** Session hooks backed by a plain variable, like the store. */
function memorySession(initial: string | null) {
  let token = initial;
  const hooks: SessionHooks & { lost: number; sessions: AuthResponse[] } = {
    lost: 0,
    sessions: [],
    getAccessToken: () => token,
    onSession: (auth) => {
      token = auth.access_token;
      hooks.sessions.push(auth);
    },
    onSessionLost: () => {
      token = null;
      hooks.lost += 1;
    },
  };
  return hooks;
}

/** Valid only for `token`, 401 otherwise. */
const meFor =
  (token: string): Handler =>
  (c) =>
    c.headers.Authorization === `Bearer ${token}` ? json(200, user) : problem(401, 'unauthorized', 'expired');

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

// ---- requests ---------------------------------------------------------------------------

describe('request', () => {
  it('sends JSON with the Bearer token and same-origin credentials', async () => {
    const { fetch, calls } = stubFetch({ 'PATCH /api/v1/users/me': () => json(200, user) });
    const http = createHttpClient({ fetch, session: memorySession('tok-1') });
    const got = await http.request<User>('/users/me', { method: 'PATCH', body: { display_name: 'Ada' } });
    expect(got).toEqual(user);
    expect(calls[0]).toMatchObject({
      method: 'PATCH',
      credentials: 'same-origin',
      body: { display_name: 'Ada' },
      headers: { Authorization: 'Bearer tok-1', 'Content-Type': 'application/json', Accept: 'application/json' },
    });
  });

  it('returns undefined for 204', async () => {
    const { fetch } = stubFetch({ 'POST /api/v1/auth/logout-all': () => new Response(null, { status: 204 }) });
    const http = createHttpClient({ fetch, session: memorySession('t') });
    await expect(http.request('/auth/logout-all', { method: 'POST' })).resolves.toBeUndefined();
  });

  it('turns problem JSON into an ApiError with code and detail', async () => {
    const { fetch } = stubFetch({
      'POST /api/v1/auth/register': () => problem(409, 'username_taken', 'That username is taken.'),
    });
    const api = createNexusApi(createHttpClient({ fetch, session: memorySession(null) }));
    const err = await api.auth.register({ username: 'ada', display_name: 'Ada', password: 'password1' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'username_taken', detail: 'That username is taken.' });
    expect(err.message).toBe('That username is taken.');
  });

  it('reports a network failure as network_error', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof globalThis.fetch;
    const http = createHttpClient({ fetch, session: memorySession('t') });
    await expect(http.request('/users/me')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('login and register always ask for the cookie and never send a token', async () => {
    const { fetch, calls } = stubFetch({
      'POST /api/v1/auth/login': () => json(200, authWith('a')),
      'POST /api/v1/auth/register': () => json(201, authWith('b')),
    });
    const api = createNexusApi(createHttpClient({ fetch, session: memorySession('stale') }));
    await api.auth.login({ username: 'ada', password: 'pw' });
    await api.auth.register({ username: 'ada', display_name: 'Ada', password: 'pw', invite_code: 'X' });
    expect(calls.map((c) => c.body)).toEqual([
      { username: 'ada', password: 'pw', use_cookie: true },
      { username: 'ada', display_name: 'Ada', password: 'pw', invite_code: 'X', use_cookie: true },
    ]);
    expect(calls.every((c) => c.headers.Authorization === undefined && c.credentials === 'same-origin')).toBe(true);
  });
});

// ---- refresh once on 401 ----------------------------------------------------------------

describe('silent refresh on 401', () => {
  it('refreshes with the cookie, then retries the request with the new token', async () => {
    const stub = stubFetch({
      'GET /api/v1/users/me': meFor('tok-2'),
      'POST /api/v1/auth/refresh': () => json(200, authWith('tok-2')),
    });
    const session = memorySession('tok-1');
    const http = createHttpClient({ fetch: stub.fetch, session });

    await expect(http.request('/users/me')).resolves.toEqual(user);

    const refreshCall = stub.calls.find((c) => c.url.endsWith('/auth/refresh'));
    expect(refreshCall).toMatchObject({ method: 'POST', body: {}, credentials: 'same-origin' });
    expect(refreshCall?.headers.Authorization).toBeUndefined();
    expect(stub.calls.map((c) => c.headers.Authorization ?? '-')).toEqual(['Bearer tok-1', '-', 'Bearer tok-2']);
    expect(session.sessions.map((a) => a.access_token)).toEqual(['tok-2']);
    http.endSession();
  });

  it('concurrent 401s share one refresh', async () => {
    const gate = deferred<void>();
    const stub = stubFetch({
      'GET /api/v1/users/me': meFor('tok-2'),
      'GET /api/v1/users?query=ab': (c) =>
        c.headers.Authorization === 'Bearer tok-2' ? json(200, [user]) : problem(401, 'unauthorized', 'expired'),
      'POST /api/v1/auth/refresh': async () => {
        await gate.promise;
        return json(200, authWith('tok-2'));
      },
    });
    const http = createHttpClient({ fetch: stub.fetch, session: memorySession('tok-1') });
    const api = createNexusApi(http);

    const all = Promise.all([api.users.me(), api.users.me(), api.users.search('ab'), api.users.me()]);
    await vi.waitFor(() => expect(stub.count('POST', '/api/v1/auth/refresh')).toBe(1));
    gate.resolve();
    const [a, b, c, d] = await all;
    expect([a, b, d]).toEqual([user, user, user]);
    expect(c).toEqual([user]);
    expect(stub.count('POST', '/api/v1/auth/refresh')).toBe(1);
    expect(stub.count('GET', '/api/v1/users/me')).toBe(6);
    http.endSession();
  });

  it('a 401 that lands after another refresh finished retries with the new token, no second refresh', async () => {
    const slow = deferred<void>();
    const stub = stubFetch({
      'GET /api/v1/users/me': async (c) => {
        // The first call with tok-1 is slow: it answers 401 only after the other refreshed.
        if (c.headers.Authorization === 'Bearer tok-1' && stub.count('GET', '/api/v1/users/me') === 1) await slow.promise;
        return meFor('tok-2')(c);
      },
      'GET /api/v1/users?query=x': (c) =>
        c.headers.Authorization === 'Bearer tok-2' ? json(200, []) : problem(401, 'unauthorized', 'expired'),
      'POST /api/v1/auth/refresh': () => json(200, authWith('tok-2')),
    });
    const api = createNexusApi(createHttpClient({ fetch: stub.fetch, session: memorySession('tok-1') }));

    const slowMe = api.users.me();
    await api.users.search('x'); // 401 → refresh → tok-2
    slow.resolve();
    await expect(slowMe).resolves.toEqual(user);
    expect(stub.count('POST', '/api/v1/auth/refresh')).toBe(1);
    api.http.endSession();
  });

  it('a rejected refresh ends the session and rejects the request with 401', async () => {
    const stub = stubFetch({
      'GET /api/v1/users/me': meFor('never'),
      'POST /api/v1/auth/refresh': () => problem(401, 'unauthorized', 'Refresh token missing'),
    });
    const session = memorySession('tok-1');
    const http = createHttpClient({ fetch: stub.fetch, session });
    await expect(http.request('/users/me')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(session.lost).toBe(1);
    expect(session.getAccessToken()).toBeNull();
    expect(stub.count('GET', '/api/v1/users/me')).toBe(1);
  });

  it('retries only once: a 401 after a successful refresh is returned, not looped', async () => {
    const stub = stubFetch({
      'GET /api/v1/users/me': () => problem(401, 'unauthorized', 'nope'),
      'POST /api/v1/auth/refresh': () => json(200, authWith('tok-2')),
    });
    const http = createHttpClient({ fetch: stub.fetch, session: memorySession('tok-1') });
    await expect(http.request('/users/me')).rejects.toMatchObject({ status: 401 });
    expect(stub.count('POST', '/api/v1/auth/refresh')).toBe(1);
    expect(stub.count('GET', '/api/v1/users/me')).toBe(2);
    http.endSession();
  });

  it('a failed login (401 invalid_credentials) does not try to refresh', async () => {
    const stub = stubFetch({
      'POST /api/v1/auth/login': () => problem(401, 'invalid_credentials', 'Wrong username or password.'),
    });
    const session = memorySession(null);
    const api = createNexusApi(createHttpClient({ fetch: stub.fetch, session }));
    await expect(api.auth.login({ username: 'ada', password: 'x' })).rejects.toMatchObject({
      code: 'invalid_credentials',
      detail: 'Wrong username or password.',
    });
    expect(stub.calls).toHaveLength(1);
    expect(session.lost).toBe(0);
  });

  it('a network failure during refresh rejects without ending the session', async () => {
    const stub = stubFetch({
      'GET /api/v1/users/me': meFor('tok-2'),
      'POST /api/v1/auth/refresh': () => {
        throw new TypeError('Failed to fetch');
      },
    });
    const session = memorySession('tok-1');
    const http = createHttpClient({ fetch: stub.fetch, session });
    await expect(http.request('/users/me')).rejects.toMatchObject({ code: 'network_error' });
    expect(session.lost).toBe(0);
    expect(session.getAccessToken()).toBe('tok-1');
  });

  it('a refresh still in flight when the user signs out does not revive the session', async () => {
    const gate = deferred<void>();
    const stub = stubFetch({
      'POST /api/v1/auth/refresh': async () => {
        await gate.promise;
        return json(200, authWith('tok-2'));
      },
    });
    const session = memorySession('tok-1');
    const http = createHttpClient({ fetch: stub.fetch, session });
    const pending = http.refresh();
    http.endSession(); // sign-out while the refresh is on the wire
    gate.resolve();
    await expect(pending).rejects.toMatchObject({ status: 401 });
    expect(session.sessions).toEqual([]);
    expect(session.getAccessToken()).toBe('tok-1'); // untouched: the store was cleared by the sign-out itself
  });

  it('runs the refresh inside the cross-tab lock', async () => {
    const order: string[] = [];
    const stub = stubFetch({
      'POST /api/v1/auth/refresh': () => {
        order.push('fetch');
        return json(200, authWith('tok-2'));
      },
    });
    const lock = async <T,>(run: () => Promise<T>) => {
      order.push('lock');
      const out = await run();
      order.push('unlock');
      return out;
    };
    const http = createHttpClient({ fetch: stub.fetch, session: memorySession(null), lock });
    await http.refresh();
    expect(order).toEqual(['lock', 'fetch', 'unlock']);
    http.endSession();
  });
});

// ---- proactive refresh ------------------------------------------------------------------

describe('proactive refresh', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refreshes ~60 s before expires_in runs out, and keeps doing so', async () => {
    let n = 1;
    const stub = stubFetch({ 'POST /api/v1/auth/refresh': () => json(200, authWith(`tok-${++n}`, 900)) });
    const session = memorySession(null);
    const http = createHttpClient({ fetch: stub.fetch, session });

    http.startSession(authWith('tok-1', 900));
    await vi.advanceTimersByTimeAsync(839_000);
    expect(stub.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stub.calls).toHaveLength(1);
    expect(session.getAccessToken()).toBe('tok-2');
    await vi.advanceTimersByTimeAsync(840_000);
    expect(stub.calls).toHaveLength(2);
    expect(session.getAccessToken()).toBe('tok-3');
    http.endSession();
    await vi.advanceTimersByTimeAsync(10 * 840_000);
    expect(stub.calls).toHaveLength(2);
  });

  it('retries after a network failure, and stops when the cookie is rejected', async () => {
    let attempt = 0;
    const stub = stubFetch({
      'POST /api/v1/auth/refresh': () => {
        attempt += 1;
        if (attempt === 1) throw new TypeError('offline');
        return problem(401, 'unauthorized', 'revoked');
      },
    });
    const session = memorySession(null);
    const http = createHttpClient({ fetch: stub.fetch, session });
    http.startSession(authWith('tok-1', 300));

    await vi.advanceTimersByTimeAsync(240_000);
    expect(attempt).toBe(1);
    expect(session.lost).toBe(0);
    await vi.advanceTimersByTimeAsync(REFRESH_RETRY_MS);
    expect(attempt).toBe(2);
    expect(session.lost).toBe(1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(attempt).toBe(2);
  });

  it('wake() refreshes at once when the token is due (throttled background tab)', async () => {
    const stub = stubFetch({ 'POST /api/v1/auth/refresh': () => json(200, authWith('tok-2', 900)) });
    const session = memorySession(null);
    const http = createHttpClient({ fetch: stub.fetch, session });
    http.startSession(authWith('tok-1', 900));

    http.wake();
    expect(stub.calls).toHaveLength(0); // not due yet

    vi.setSystemTime(Date.now() + 850_000); // the clock moved but the timer did not fire
    http.wake();
    await vi.waitFor(() => expect(session.getAccessToken()).toBe('tok-2'));
    expect(stub.calls).toHaveLength(1);
    http.endSession();
  });

  it('refreshDelayMs: a minute early, never before half-life, at least a second', () => {
    expect(refreshDelayMs(900)).toBe(840_000);
    expect(refreshDelayMs(120)).toBe(60_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(0)).toBe(1_000);
  });
});
