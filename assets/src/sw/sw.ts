/// <reference lib="webworker" />
/**
 * The service worker at `/sw.js` (scope `/`), built by vite-plugin-pwa (injectManifest):
 * - precaches the app shell (index.html and the hashed assets of this build) so the app
 *   opens offline and shows its own offline state; navigations get the cached index.html;
 *   nothing under /api/ is ever cached or answered from here;
 * - shows a notification for each push (docs/protocol.md "Web push"), unless a Nexus
 *   window is focused on screen, and keeps the app badge at the unread count;
 * - a click on a notification focuses an open Nexus window and opens the conversation
 *   there, or opens a new window at the conversation.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { routeClick, windowInFront, type ClientsLike } from '../features/notifications/click';
import { notificationFor, parsePayload, unreadOf } from '../features/notifications/payload';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | { url: string; revision: string | null }> };

self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/api(\/|$)/u, /^\/sw\.js$/u] }));

const clients = self.clients as unknown as ClientsLike;

async function setBadge(unread: number | null): Promise<void> {
  const nav = self.navigator as WorkerNavigator & { setAppBadge?(n?: number): Promise<void>; clearAppBadge?(): Promise<void> };
  if (unread === null || !nav.setAppBadge) return;
  await (unread > 0 ? nav.setAppBadge(unread) : (nav.clearAppBadge?.() ?? nav.setAppBadge(0))).catch(() => undefined);
}

async function onPush(data: PushMessageData | null): Promise<void> {
  let text: string | null = null;
  try {
    text = data?.text() ?? null;
  } catch {
    text = null;
  }
  const payload = parsePayload(text);
  await setBadge(unreadOf(payload));
  // The user is looking at Nexus: the open window shows the message itself.
  if (payload && (await windowInFront(clients, self.location.origin))) return;
  const { title, options } = notificationFor(payload);
  await self.registration.showNotification(title, options);
}

self.addEventListener('push', (event) => {
  event.waitUntil(onPush(event.data));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(routeClick(event.notification.data, clients, self.location.origin).then(() => undefined));
});
