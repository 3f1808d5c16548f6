/**
 * The emoji data itself (emojibase-data, English): one lazy chunk of its own, loaded the
 * first time the full picker opens. vite.config.ts leaves it out of the service worker's
 * precache, so installing the app does not download it.
 */
import emojis from 'emojibase-data/en/data.json';
import messages from 'emojibase-data/en/messages.json';

export { emojis, messages };
