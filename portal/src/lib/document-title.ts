export const APP_NAME = 'openbatch';

/**
 * The browser tab's title: the page's own words first (what tells tabs and history entries
 * apart), then the app's name, e.g. `batch_abc · Completed · openbatch`. Empty parts are left out.
 */
export function documentTitle(...parts: (string | null | undefined)[]): string {
  return [...parts.map((p) => p?.trim()).filter((p): p is string => Boolean(p)), APP_NAME].join(' · ');
}
