/**
 * The typed endpoints of `/api/v1`, one function per route, over an HttpClient.
 * The web client always asks for the refresh cookie (`use_cookie: true`).
 */
import type { HttpClient } from './http';
import { createAdminApi } from './admin';
import { createChangesApi } from './changes';
import { createNotificationsApi } from './notifications';
import { createUploads } from './uploads';
import type {
  AuthResponse,
  Conversation,
  CreateConversationRequest,
  IceServersResponse,
  LoginRequest,
  Message,
  MessageAccepted,
  MessagePageQuery,
  Receipt,
  RegisterRequest,
  ServerInfo,
  UpdateMeRequest,
  User,
} from './types';

/** Largest page `GET /conversations/{id}/messages` serves. */
export const MAX_PAGE_LIMIT = 100;

/**
 * List endpoints answer a JSON array (docs/protocol.md). An object wrapping one array
 * (`{"items": […]}`) is accepted too, so a pagination envelope added later does not break
 * the client.
 */
export function asList<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const key of ['items', 'data', 'conversations', 'messages', 'receipts', 'users']) {
      const inner = (body as Record<string, unknown>)[key];
      if (Array.isArray(inner)) return inner as T[];
    }
  }
  return [];
}

function query(params: object): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const enc = encodeURIComponent;

export function createNexusApi(http: HttpClient) {
  return {
    http,
    server: {
      info: (signal?: AbortSignal) => http.request<ServerInfo>('/server', { auth: false, signal }),
    },
    auth: {
      register: (body: RegisterRequest) =>
        http.request<AuthResponse>('/auth/register', {
          method: 'POST',
          auth: false,
          body: { ...body, use_cookie: true },
        }),
      login: (body: LoginRequest) =>
        http.request<AuthResponse>('/auth/login', {
          method: 'POST',
          auth: false,
          body: { ...body, use_cookie: true },
        }),
      refresh: () => http.refresh(),
      /** Revokes this device's refresh token and clears the cookie. */
      logout: () => http.request<void>('/auth/logout', { method: 'POST', auth: false, body: {} }),
      /** Revokes every refresh token of the user (Bearer). */
      logoutAll: () => http.request<void>('/auth/logout-all', { method: 'POST', body: {} }),
    },
    users: {
      me: () => http.request<User>('/users/me'),
      updateMe: (body: UpdateMeRequest) =>
        http.request<User>('/users/me', { method: 'PATCH', body }),
      search: (q: string, signal?: AbortSignal) =>
        http.request<unknown>(`/users${query({ query: q })}`, { signal }).then(asList<User>),
    },
    conversations: {
      list: () => http.request<unknown>('/conversations').then(asList<Conversation>),
      get: (id: string) => http.request<Conversation>(`/conversations/${enc(id)}`),
      /** `201` a new conversation, or `200` the existing direct one for the pair. */
      create: (body: CreateConversationRequest) =>
        http.request<Conversation>('/conversations', { method: 'POST', body }),
      rename: (id: string, name: string) =>
        http.request<Conversation>(`/conversations/${enc(id)}`, { method: 'PATCH', body: { name } }),
      addMembers: (id: string, userIds: string[]) =>
        http.request<unknown>(`/conversations/${enc(id)}/members`, { method: 'POST', body: { user_ids: userIds } }),
      /** Group admins remove a member; anyone may remove themselves (leave). */
      removeMember: (id: string, userId: string) =>
        http.request<void>(`/conversations/${enc(id)}/members/${enc(userId)}`, { method: 'DELETE' }),
      /** Ascending by seq: the latest page, the page before `before_seq`, or the page after `after_seq`. */
      messages: (id: string, page: MessagePageQuery = {}, signal?: AbortSignal) =>
        http
          .request<unknown>(`/conversations/${enc(id)}/messages${query(page)}`, { signal })
          .then(asList<Message>),
      /** Same pipeline as the gateway's `message.send`; `clientId` is the idempotency key. */
      postMessage: (id: string, body: string, clientId: string, attachments: string[] = []) =>
        http.request<MessageAccepted>(`/conversations/${enc(id)}/messages`, {
          method: 'POST',
          body: attachments.length ? { body, attachments } : { body },
          headers: { 'Idempotency-Key': clientId },
        }),
      markRead: (id: string, seq: number) =>
        http.request<void>(`/conversations/${enc(id)}/read`, { method: 'POST', body: { seq } }),
      receipts: (id: string) =>
        http.request<unknown>(`/conversations/${enc(id)}/receipts`).then(asList<Receipt>),
    },
    uploads: createUploads(http),
    changes: createChangesApi(http),
    admin: createAdminApi(http),
    notifications: createNotificationsApi(http),
    calls: {
      /** Fetched right before each peer connection: the TURN credentials expire (`ttl`). */
      iceServers: () =>
        http.request<IceServersResponse>('/calls/ice-servers').then((r) => ({
          ice_servers: Array.isArray(r?.ice_servers) ? r.ice_servers : [],
          ttl: typeof r?.ttl === 'number' ? r.ttl : 0,
        })),
    },
  };
}

export type NexusApi = ReturnType<typeof createNexusApi>;
