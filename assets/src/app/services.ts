/**
 * The services the features are given (features/services.ts), built from the tab's one
 * store, HTTP client, API, gateway, upload queue, call controller and room controller. App.tsx provides them to the
 * component tree.
 */
import type { AppServices } from '../features/services';
import { announceToOtherTabs, api, http } from './api';
import { calls } from './calls';
import { rooms } from './rooms';
import { gateway } from './gateway';
import { notificationDevice } from './notifications';
import { backToList, navigateTo } from './route';
import { useAppStore } from './store';
import { uploads } from './uploads';

export const services: AppServices = {
  store: useAppStore,
  api,
  session: {
    start: (auth) => http.startSession(auth),
    end: () => http.endSession(),
  },
  announce: announceToOtherTabs,
  gateway,
  changes: gateway.changes,
  uploads,
  calls,
  rooms,
  notifications: notificationDevice,
  navigation: { open: navigateTo, back: backToList },
};
