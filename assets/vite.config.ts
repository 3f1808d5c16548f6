/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { VitePWA } from 'vite-plugin-pwa';

// The Rust binary embeds `dist/` (rust-embed) and serves it at `/`, with the API under
// `/api/v1` on the same origin. In `npm run dev`, /api is proxied to a running server
// (NEXUS_DEV_API, default http://127.0.0.1:8080) so the refresh cookie stays same-origin.
const devApi = process.env.NEXUS_DEV_API ?? 'http://127.0.0.1:8080';

// The installable app: the web manifest and the service worker (src/sw/sw.ts, built with
// its precache list of this build's files). The page registers it itself (app/notifications.ts).
const pwa = VitePWA({
  strategies: 'injectManifest',
  srcDir: 'src/sw',
  filename: 'sw.ts',
  injectRegister: false,
  includeAssets: ['icons/*.png'],
  manifest: {
    id: '/',
    name: 'Nexus',
    short_name: 'Nexus',
    description: 'Self-hosted chat',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    theme_color: '#eef2ff',
    background_color: '#eef2ff',
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  injectManifest: {
    globPatterns: ['**/*.{js,css,html,webmanifest}', 'icons/icon-192.png'],
    // The emoji picker's data (~100 kB gzipped) loads when the picker first opens, not at install.
    globIgnores: ['**/emojibaseData-*.js'],
    // Hashed files are their own revision.
    dontCacheBustURLsMatching: /^assets\//,
    maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
  },
  devOptions: { enabled: false },
});

export default defineConfig({
  plugins: [react(), tailwindcss(), pwa],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: devApi, changeOrigin: false, ws: true } },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    restoreMocks: true,
  },
});
