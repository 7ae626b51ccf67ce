import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { isPortalRoute } from '../../core/app/portal-routes.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built portal (portal/dist) the way S3 + CloudFront do in production: static
 * files, `index.html` for client-side routes, and `/config.json` carrying the API's URL.
 */
export function portalHandler(distDir: string, config: () => Record<string, unknown>) {
  const root = resolve(distDir);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith('/v1/') || path === '/v1') return false;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(config()));
      return true;
    }
    if (!existsSync(join(root, 'index.html'))) {
      if (path !== '/') return false;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('openbatch API is at /v1. The portal is not built (portal/dist is missing).\n');
      return true;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false; // not a path the portal has: the gateway answers it
    }
    const candidate = normalize(join(root, decoded));
    const asset = candidate.startsWith(root) && existsSync(candidate) && statSync(candidate).isFile();
    // Client-side routes get index.html, as the CloudFront function gives them; other paths are not the portal's.
    if (!asset && !isPortalRoute(path)) return false;
    const file = asset ? candidate : join(root, 'index.html');
    res.writeHead(200, {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
