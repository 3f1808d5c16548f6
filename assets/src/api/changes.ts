/**
 * Message changes over REST (docs/protocol.md, "Conversation features"): edit, delete,
 * react, pin, the versions of an edited message, a conversation's pins, the changes after a
 * change number (catch-up), history around a seq, and search. Every call answers the
 * message's current state (a `MessageView`), like the gateway's `change.ack`.
 */
import type { HttpClient } from './http';
import type { ChangesPage, Message, MessageVersion, SearchPage, SearchQuery } from './types';

/** Largest page `GET …/changes` serves. */
export const CHANGES_PAGE_LIMIT = 200;

const enc = encodeURIComponent;

function query(params: object): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const asArray = <T>(body: unknown): T[] => (Array.isArray(body) ? (body as T[]) : []);

export function createChangesApi(http: HttpClient) {
  const message = (cid: string, mid: string) => `/conversations/${enc(cid)}/messages/${enc(mid)}`;
  return {
    edit: (cid: string, mid: string, clientId: string, body: string) =>
      http.request<Message>(message(cid, mid), { method: 'PATCH', body: { client_id: clientId, body } }),
    /** Answers the tombstone. */
    remove: (cid: string, mid: string) => http.request<Message>(message(cid, mid), { method: 'DELETE' }),
    react: (cid: string, mid: string, emoji: string, on: boolean) =>
      http.request<Message>(`${message(cid, mid)}/reactions/${enc(emoji)}`, { method: on ? 'PUT' : 'DELETE' }),
    pin: (cid: string, mid: string, pinned: boolean) =>
      http.request<Message>(`${message(cid, mid)}/pin`, { method: pinned ? 'PUT' : 'DELETE' }),
    /** Oldest first; the current body last. */
    versions: (cid: string, mid: string, signal?: AbortSignal) =>
      http.request<unknown>(`${message(cid, mid)}/versions`, { signal }).then(asArray<MessageVersion>),
    /** Newest pin first. */
    pins: (cid: string, signal?: AbortSignal) =>
      http.request<unknown>(`/conversations/${enc(cid)}/pins`, { signal }).then(asArray<Message>),
    changes: (cid: string, after: number, limit = CHANGES_PAGE_LIMIT) =>
      http
        .request<Partial<ChangesPage> | null>(`/conversations/${enc(cid)}/changes${query({ after, limit })}`)
        .then((r): ChangesPage => ({
          messages: Array.isArray(r?.messages) ? r.messages : [],
          last_change_seq: typeof r?.last_change_seq === 'number' ? r.last_change_seq : after,
        })),
    search: (q: SearchQuery, signal?: AbortSignal) =>
      http.request<Partial<SearchPage> | null>(`/search${query(q)}`, { signal }).then(
        (r): SearchPage => ({
          results: Array.isArray(r?.results) ? r.results : [],
          next_cursor: typeof r?.next_cursor === 'string' && r.next_cursor ? r.next_cursor : null,
        }),
      ),
  };
}

export type ChangesApi = ReturnType<typeof createChangesApi>;
