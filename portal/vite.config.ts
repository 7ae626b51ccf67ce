import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The portal is a static single-page app: `vite build` writes portal/dist, which S3 + CloudFront
 * serve in production and the local runtime serves on `npm start`. The API's URL is not built in:
 * the app reads `/config.json` at start-up.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    port: 5173,
    // `npm run portal:dev` against `npm start`: the dev server proxies the API and its config.
    proxy: {
      '/v1': process.env.OPENBATCH_API_URL ?? 'http://127.0.0.1:8080',
      '/config.json': process.env.OPENBATCH_API_URL ?? 'http://127.0.0.1:8080',
    },
  },
});
