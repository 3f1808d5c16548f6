/**
 * The typed endpoints of `/api/v1`, one function per route, over an HttpClient.
 * The web client always asks for the refresh cookie (`use_cookie: true`).
 */
import type { HttpClient } from './http';
import type {
  AuthResponse,
  LoginRequest,
  RegisterRequest,
  ServerInfo,
  UpdateMeRequest,
  User,
} from './types';

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
      search: (query: string, signal?: AbortSignal) =>
        http.request<User[]>(`/users?query=${encodeURIComponent(query)}`, { signal }),
    },
  };
}

export type NexusApi = ReturnType<typeof createNexusApi>;
