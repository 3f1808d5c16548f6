/**
 * Wire types of the Nexus REST API (`/api/v1`), exactly as the server sends them.
 * Field names stay snake_case here; the UI reads them as they are.
 */

export interface User {
  id: string;
  username: string;
  display_name: string;
  is_admin: boolean;
  /** RFC 3339 timestamp. */
  created_at: string;
}

export interface AuthResponse {
  user: User;
  access_token: string;
  token_type: 'Bearer';
  /** Lifetime of `access_token`, in seconds. */
  expires_in: number;
  /** Only present when the request did not ask for the cookie (the web client always does). */
  refresh_token?: string;
}

export type RegistrationMode = 'open' | 'invite' | 'closed';

export interface ServerInfo {
  name: string;
  registration: RegistrationMode;
  version: string;
}

export interface RegisterRequest {
  username: string;
  display_name: string;
  password: string;
  invite_code?: string;
}

export interface LoginRequest {
  username: string;
  password: string;
}

export interface UpdateMeRequest {
  display_name?: string;
}

/** RFC 9457 problem details, with the server's stable `code`. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [extension: string]: unknown;
}

/** Stable error codes the client reacts to. The server may send others. */
export type KnownErrorCode =
  | 'invalid_credentials'
  | 'username_taken'
  | 'validation_failed'
  | 'rate_limited'
  | 'registration_closed'
  | 'invalid_invite'
  | 'unauthorized';
