import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const API = process.env.OPENBATCH_API_URL ?? 'http://127.0.0.1:8080';

/**
 * `npm run portal:dev`: the dev server answers /config.json itself, pointing the app at its own
 * origin, and proxies /v1 to the API (`npm start`), so no CORS setting is needed in development.
 */
function devRuntimeConfig(): Plugin {
  return {
    name: 'openbatch-dev-runtime-config',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/config.json', (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiBaseUrl: `http://${req.headers.host}/v1`, environment: 'dev' }));
      });
    },
  };
}

/**
 * The portal is a static single-page app: `vite build` writes portal/dist, which S3 + CloudFront
 * serve in production and the local runtime serves on `npm start`. The API's URL is not built in:
 * the app reads `/config.json` at start-up.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), tailwindcss(), devRuntimeConfig()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    port: 5173,
    proxy: { '/v1': API },
  },
});
