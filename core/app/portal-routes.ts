/**
 * The portal's client-side routes (portal/src/app/router.tsx): the only paths, besides its
 * files and /config.json, that answer with the portal's index.html — on CloudFront (the
 * portal stack's viewer-request function) and on the local runtime alike. Anything else is not
 * the portal's: /metrics or /health answer 404, not a page that happens to load.
 */
export const PORTAL_ROUTE_SOURCE = '^/(batches(/[^/.]+)?/?|operator/?)?$';

const portalRoute = new RegExp(PORTAL_ROUTE_SOURCE);

export const isPortalRoute = (path: string): boolean => portalRoute.test(path);
