/**
 * Routing, kept light: the open conversation lives in the URL as `?c=<id>` (the server
 * serves index.html for any non-/api path, so a reload or a shared link reopens it).
 * Opening a conversation pushes a history entry, so the browser's Back returns to the list
 * on a phone; anything else that closes it (leaving a group) replaces the entry.
 */
import { useAppStore } from './store';

const PARAM = 'c';

export function conversationFromUrl(): string | null {
  const id = new URLSearchParams(window.location.search).get(PARAM);
  return id && /^[\w-]{1,64}$/u.test(id) ? id : null;
}

function urlFor(id: string | null): string {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set(PARAM, id);
  else url.searchParams.delete(PARAM);
  return `${url.pathname}${url.search}${url.hash}`;
}

/** Opens a conversation (or the list, with null). */
export function navigateTo(id: string | null): void {
  const current = useAppStore.getState().conversations.activeId;
  if (id === current) return;
  const fromList = current === null;
  history.pushState({ nexusConversation: id, fromList }, '', urlFor(id));
  useAppStore.getState().conversationsActivated(id);
}

/** The chat's back button: pops the entry that opened it, or replaces it with the list. */
export function backToList(): void {
  const state = history.state as { nexusConversation?: string | null; fromList?: boolean } | null;
  if (state?.fromList && state.nexusConversation === useAppStore.getState().conversations.activeId) {
    history.back();
    return;
  }
  history.replaceState({ nexusConversation: null }, '', urlFor(null));
  useAppStore.getState().conversationsActivated(null);
}

/** Keeps the store and the URL in step. Returns a cleanup. */
export function runRouter(): () => void {
  const store = useAppStore;
  const fromUrl = () => {
    if (store.getState().session.status === 'authenticated') store.getState().conversationsActivated(conversationFromUrl());
  };
  fromUrl();
  window.addEventListener('popstate', fromUrl);
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.session.status !== prev.session.status) {
      if (s.session.status === 'authenticated') fromUrl();
      else if (prev.session.status === 'authenticated' && conversationFromUrl()) {
        history.replaceState(null, '', urlFor(null));
      }
    }
    // Closed by something other than navigation (left the group, removed): fix the URL.
    const active = s.conversations.activeId;
    if (active !== prev.conversations.activeId && active !== conversationFromUrl() && s.session.status === 'authenticated') {
      history.replaceState({ nexusConversation: active }, '', urlFor(active));
    }
  });
  return () => {
    window.removeEventListener('popstate', fromUrl);
    unsubscribe();
  };
}
