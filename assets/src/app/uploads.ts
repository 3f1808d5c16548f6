/**
 * The one upload queue of the tab: uploads through the API's XHR transport, sends through
 * the gateway, and reports failures as toasts.
 */
import { toast } from 'sonner';
import { UploadQueue } from '../features/attachments/queue';
import { uuid } from '../gateway/client';
import { api } from './api';
import { gateway } from './gateway';
import { useAppStore } from './store';

export const uploads = new UploadQueue({
  store: useAppStore,
  upload: (file, name, options) => api.uploads.upload(file, name, options),
  gateway,
  notify: (title, description) => toast.error(title, { description }),
  newId: uuid,
});
