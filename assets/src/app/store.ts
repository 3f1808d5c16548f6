/**
 * The one app store of the tab. Only app/ holds it as a module singleton; the features get
 * it through their services (features/services.ts), so a test can give them another.
 */
import { createAppStore } from '../stores';

export const useAppStore = createAppStore();
