/**
 * The app store: one Zustand store composed of slices. Each slice keeps its state under its
 * own key, changes it only through a pure reducer, and exports selectors; components read
 * with `useAppStore(selector)` so they re-render only when their slice of state changes.
 */
import { create } from 'zustand';
import { createServerSlice, type ServerSlice } from './server/slice';
import { createSessionSlice, type SessionSlice } from './session/slice';

export type AppState = SessionSlice & ServerSlice;

export const createAppStore = () =>
  create<AppState>()((...a) => ({
    ...createSessionSlice<AppState>()(...a),
    ...createServerSlice<AppState>()(...a),
  }));

export const useAppStore = createAppStore();

export { sessionSelectors } from './session/selectors';
export { serverSelectors } from './server/selectors';
