const KEY = 'openbatch.apiKey';

/**
 * Where the user's API key lives in the browser: this tab's session by default, or this device's
 * local storage when the user asks to be remembered. It is sent only to the configured API.
 */
export const apiKeyStore = {
  get(): string | null {
    return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  },
  set(value: string, remember: boolean): void {
    this.clear();
    (remember ? localStorage : sessionStorage).setItem(KEY, value);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
  },
};
