/**
 * Uploads slice: the images a person is attaching, from the moment they are picked until
 * the message that carries them is stored.
 *
 * Invariants:
 * - An upload sits in its conversation's tray (`trays`, in the order picked) until the
 *   message is sent; then it moves to `sent`, keyed by its local id, with the message's
 *   client_id, and stays there only to show its progress on the pending bubble.
 * - `loaded` never goes down and never passes `total`; `done` means `attachment` is set,
 *   `failed` means `error` (an error code) is.
 * - Failed uploads are never sent: `sent` leaves them in the tray, with their error, until
 *   the person removes them.
 */
import type { Attachment } from '../../api/types';

export type UploadStatus = 'uploading' | 'done' | 'failed';

export interface Upload {
  /** Local id (also the key of the pending bubble's image). */
  id: string;
  conversationId: string;
  name: string;
  bytes: number;
  mime: string;
  /** Object URL of the local file: the preview before the server has one. */
  localUrl: string;
  /** Size of the local image (0 when it could not be read). */
  width: number;
  height: number;
  status: UploadStatus;
  loaded: number;
  total: number;
  error: string | null;
  attachment: Attachment | null;
  /** The message it went out with; null while it is in the tray. */
  clientId: string | null;
}

export interface UploadsState {
  trays: Record<string, Upload[]>;
  sent: Record<string, Upload>;
}

export const initialUploadsState: UploadsState = { trays: {}, sent: {} };

export type UploadsAction =
  | { type: 'added'; upload: Upload }
  | { type: 'progressed'; id: string; loaded: number; total: number }
  | { type: 'finished'; id: string; attachment: Attachment }
  | { type: 'failed'; id: string; error: string }
  /** The tray went out as the message `clientId`: its uploads that did not fail leave the tray. */
  | { type: 'sent'; conversationId: string; clientId: string }
  | { type: 'removed'; id: string }
  | { type: 'reset' };

export function uploadsReducer(state: UploadsState, action: UploadsAction): UploadsState {
  switch (action.type) {
    case 'added': {
      const u = action.upload;
      const tray = state.trays[u.conversationId] ?? [];
      if (tray.some((x) => x.id === u.id)) return state;
      return { ...state, trays: { ...state.trays, [u.conversationId]: [...tray, u] } };
    }
    case 'progressed':
      return update(state, action.id, (u) => {
        if (u.status !== 'uploading') return u;
        const total = Math.max(action.total, 0);
        const loaded = Math.min(Math.max(action.loaded, u.loaded), total || action.loaded);
        return loaded === u.loaded && total === u.total ? u : { ...u, loaded, total };
      });
    case 'finished':
      return update(state, action.id, (u) =>
        u.status === 'failed' ? u : { ...u, status: 'done', attachment: action.attachment, loaded: u.total || u.bytes, total: u.total || u.bytes, error: null },
      );
    case 'failed':
      return update(state, action.id, (u) => (u.status === 'done' ? u : { ...u, status: 'failed', error: action.error }));
    case 'sent': {
      const tray = state.trays[action.conversationId];
      if (!tray?.length) return state;
      const going = tray.filter((u) => u.status !== 'failed');
      if (!going.length) return state;
      const sent = { ...state.sent };
      for (const u of going) sent[u.id] = { ...u, clientId: action.clientId };
      return { trays: setTray(state.trays, action.conversationId, tray.filter((u) => u.status === 'failed')), sent };
    }
    case 'removed': {
      if (state.sent[action.id]) {
        const sent = { ...state.sent };
        delete sent[action.id];
        return { ...state, sent };
      }
      for (const [cid, tray] of Object.entries(state.trays)) {
        if (tray.some((u) => u.id === action.id)) {
          return { ...state, trays: setTray(state.trays, cid, tray.filter((u) => u.id !== action.id)) };
        }
      }
      return state;
    }
    case 'reset':
      return initialUploadsState;
  }
}

/** Finds an upload in a tray or among the sent ones. */
export function findUpload(state: UploadsState, id: string): Upload | undefined {
  if (state.sent[id]) return state.sent[id];
  for (const tray of Object.values(state.trays)) {
    const u = tray.find((x) => x.id === id);
    if (u) return u;
  }
  return undefined;
}

function update(state: UploadsState, id: string, change: (u: Upload) => Upload): UploadsState {
  const s = state.sent[id];
  if (s) {
    const next = change(s);
    return next === s ? state : { ...state, sent: { ...state.sent, [id]: next } };
  }
  for (const [cid, tray] of Object.entries(state.trays)) {
    const i = tray.findIndex((u) => u.id === id);
    if (i < 0) continue;
    const next = change(tray[i]!);
    if (next === tray[i]) return state;
    const copy = tray.slice();
    copy[i] = next;
    return { ...state, trays: { ...state.trays, [cid]: copy } };
  }
  return state;
}

function setTray(trays: Record<string, Upload[]>, cid: string, tray: Upload[]): Record<string, Upload[]> {
  const next = { ...trays };
  if (tray.length) next[cid] = tray;
  else delete next[cid];
  return next;
}
