/**
 * The administrators' endpoints (`/api/v1/admin/*`, docs/protocol.md): accounts, invites
 * and the server panel. Every one answers 403 `forbidden` to anyone but an administrator.
 */
import type { HttpClient } from './http';
import type { RegistrationMode, User } from './types';

/** An account as administrators see it. */
export interface AdminUser extends User {
  /** RFC 3339; set while the account is disabled. */
  disabled_at: string | null;
}

export interface AccountPatch {
  is_admin?: boolean;
  disabled?: boolean;
}

export type InviteState = 'active' | 'used' | 'revoked' | 'expired';

export interface Invite {
  id: string;
  note: string | null;
  created_by: User | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The account registered with it. */
  used_by: User | null;
  revoked_at: string | null;
  state: InviteState;
}

export interface NewInviteRequest {
  note?: string;
  /** 1–8760; 168 (7 days) when left out. */
  expires_in_hours?: number;
}

export interface CreatedInvite {
  /** Shown once: only its hash is kept. */
  code: string;
  /** `/invite/<code>`: the sign-up page with the code filled in. */
  path: string;
  invite: Invite;
}

/** The server panel; counters are those of the node that answered (its `/metrics`). */
export interface ServerOverview {
  name: string;
  version: string;
  registration: RegistrationMode;
  uptime_secs: number;
  users: number;
  disabled_users: number;
  storage: { database_bytes: number; media_bytes?: number | null };
  connections: number;
  connected_users: number;
  messages_accepted_total: number;
  messages_stored_total: number;
  messages_per_sec_since_start: number;
  /** Unix ms when the counters were read: two samples give a rate. */
  sampled_at_ms: number;
}

/** Limits the server enforces (and the forms check first). */
export const INVITE_NOTE_MAX = 200;
export const INVITE_HOURS_MAX = 8760;

const enc = encodeURIComponent;

export function createAdminApi(http: HttpClient) {
  return {
    users: (q = '', signal?: AbortSignal) =>
      http.request<AdminUser[]>(`/admin/users?limit=200${q.trim() ? `&query=${enc(q.trim())}` : ''}`, { signal }),
    updateUser: (id: string, patch: AccountPatch) =>
      http.request<AdminUser>(`/admin/users/${enc(id)}`, { method: 'PATCH', body: patch }),
    invites: () => http.request<Invite[]>('/admin/invites'),
    createInvite: (body: NewInviteRequest) => http.request<CreatedInvite>('/admin/invites', { method: 'POST', body }),
    revokeInvite: (id: string) => http.request<void>(`/admin/invites/${enc(id)}`, { method: 'DELETE' }),
    server: () => http.request<ServerOverview>('/admin/server'),
  };
}

export type AdminApi = ReturnType<typeof createAdminApi>;
