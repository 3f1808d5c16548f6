/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// The Rust binary embeds `dist/` (rust-embed) and serves it at `/`, with the API under
// `/api/v1` on the same origin. In `npm run dev`, /api is proxied to a running server
// (NEXUS_DEV_API, default http://127.0.0.1:8080) so the refresh cookie stays same-origin.
const devApi = process.env.NEXUS_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
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
