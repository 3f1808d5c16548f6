import type { Problem } from './types';

/**
 * Every failed call rejects with an ApiError: an HTTP error (problem JSON when the server
 * sent one), or a network failure (`status` 0, `code` "network_error").
 */
export class ApiError extends Error {
  readonly status: number;
  /** The server's stable code, or `http_<status>` / `network_error` when there is none. */
  readonly code: string;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly problem: Problem | undefined;

  constructor(status: number, code: string, problem?: Problem, cause?: unknown) {
    super(problem?.detail ?? problem?.title ?? defaultMessage(status, code), { cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problem = problem;
    this.title = problem?.title;
    this.detail = problem?.detail;
  }

  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

function defaultMessage(status: number, code: string): string {
  if (status === 0) return 'Could not reach the server. Check your connection and try again.';
  if (code === 'unauthorized' || status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (status >= 500) return 'The server ran into a problem. Please try again.';
  return `Request failed (${status}).`;
}

/** Builds an ApiError from a non-2xx response, reading problem JSON when present. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let problem: Problem | undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body: unknown = await res.json();
      if (body && typeof body === 'object') problem = body as Problem;
    } catch {
      // A malformed error body still yields an error with the status code.
    }
  }
  const code =
    typeof problem?.code === 'string' && problem.code
      ? problem.code
      : res.status === 401
        ? 'unauthorized'
        : `http_${res.status}`;
  return new ApiError(res.status, code, problem);
}

/** A human sentence for any thrown value, preferring the server's `detail`. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
