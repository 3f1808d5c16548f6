/**
 * Drafts survive a reload of the tab in sessionStorage (per tab, gone when it closes), under
 * `nexus.draft.<user id>.<conversation id>`. Only non-empty drafts are stored; signing out
 * removes them all.
 */
export const DRAFT_PREFIX = 'nexus.draft.';

export type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

export function defaultDraftStorage(): DraftStorage | null {
  try {
    return typeof sessionStorage !== 'undefined' ? sessionStorage : null;
  } catch {
    return null; // storage disabled by the browser
  }
}

export function draftKey(userId: string, conversationId: string): string {
  return `${DRAFT_PREFIX}${userId}.${conversationId}`;
}

export function readDrafts(storage: DraftStorage | null, userId: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!storage) return out;
  const prefix = `${DRAFT_PREFIX}${userId}.`;
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (!k?.startsWith(prefix)) continue;
    const text = storage.getItem(k);
    if (text) out[k.slice(prefix.length)] = text;
  }
  return out;
}

export function writeDraft(storage: DraftStorage | null, userId: string, conversationId: string, text: string): void {
  if (!storage) return;
  try {
    if (text) storage.setItem(draftKey(userId, conversationId), text);
    else storage.removeItem(draftKey(userId, conversationId));
  } catch {
    // Quota or privacy mode: the draft still lives in memory.
  }
}

export function clearDrafts(storage: DraftStorage | null): void {
  if (!storage) return;
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (k?.startsWith(DRAFT_PREFIX)) keys.push(k);
  }
  for (const k of keys) storage.removeItem(k);
}
