/** Reads of the uploads slice: a conversation's tray, one upload, its progress, a message's uploads. */
import { findUpload, type Upload, type UploadsState } from './reducer';

interface WithUploads {
  uploads: UploadsState;
}

const EMPTY: Upload[] = [];

export const uploadsSelectors = {
  /** The composer's tray of a conversation, in the order picked (the same array until it changes). */
  tray: (s: WithUploads, conversationId: string): Upload[] => s.uploads.trays[conversationId] ?? EMPTY,
  byId: (s: WithUploads, id: string): Upload | undefined => findUpload(s.uploads, id),
  /** 0–1 while uploading, null when not uploading (or unknown). */
  progress: (s: WithUploads, id: string): number | null => {
    const u = findUpload(s.uploads, id);
    if (!u || u.status !== 'uploading') return null;
    return fraction(u);
  },
  /** The uploads that went out with the message `clientId`. */
  ofMessage: (s: WithUploads, clientId: string): Upload[] => Object.values(s.uploads.sent).filter((u) => u.clientId === clientId),
};

/** How much of an upload has gone out, 0–1. */
export function fraction(u: Pick<Upload, 'loaded' | 'total' | 'bytes' | 'status'>): number {
  if (u.status === 'done') return 1;
  const total = u.total || u.bytes;
  return total > 0 ? Math.min(1, u.loaded / total) : 0;
}
