import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';

/** The user's colour scheme: `system` follows the device (prefers-color-scheme). */
export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

export const THEME_STORAGE_KEY = 'openbatch.theme';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
const DARK_QUERY = '(prefers-color-scheme: dark)';

/** The stored choice; anything else (nothing stored, an old value, no storage) is `system`. */
export function readThemeChoice(storage: Pick<Storage, 'getItem'> | undefined): ThemeChoice {
  let value: string | null = null;
  try {
    value = storage?.getItem(THEME_STORAGE_KEY) ?? null;
  } catch {
    // Storage can be blocked (privacy settings); the device's scheme applies.
  }
  return value === 'light' || value === 'dark' ? value : 'system';
}

export const resolveTheme = (choice: ThemeChoice, deviceDark: boolean): Theme =>
  choice === 'system' ? (deviceDark ? 'dark' : 'light') : choice;

/** The next choice of the toggle: system → light → dark → system. */
export const nextThemeChoice = (choice: ThemeChoice): ThemeChoice =>
  THEME_CHOICES[(THEME_CHOICES.indexOf(choice) + 1) % THEME_CHOICES.length] ?? 'system';

/**
 * Applies a scheme to the page: the colour tokens (index.css) follow `data-theme`, native
 * controls follow `color-scheme`. index.html runs the same rule before the first paint, so the
 * page never flashes the other scheme.
 */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.dataset.theme = theme;
  root.style.colorScheme = theme;
}

interface ThemeState {
  choice: ThemeChoice;
  theme: Theme;
  setChoice(choice: ThemeChoice): void;
}

const ThemeContext = createContext<ThemeState>({ choice: 'system', theme: 'light', setChoice: () => {} });

const deviceQuery = (): MediaQueryList | null =>
  typeof window !== 'undefined' && typeof window.matchMedia === 'function'
    ? window.matchMedia(DARK_QUERY)
    : null;

/** The colour scheme: the user's choice, remembered on this device, else the device's own. */
export function ThemeProvider(props: { children: ReactNode }) {
  const [choice, setChoiceState] = useState<ThemeChoice>(() => readThemeChoice(globalThis.localStorage));
  const [deviceDark, setDeviceDark] = useState(() => deviceQuery()?.matches ?? false);
  useEffect(() => {
    const mq = deviceQuery();
    if (!mq) return;
    const onChange = () => setDeviceDark(mq.matches);
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);
  const theme = resolveTheme(choice, deviceDark);
  useEffect(() => applyTheme(theme), [theme]);
  const value = useMemo<ThemeState>(
    () => ({
      choice,
      theme,
      setChoice: (next) => {
        try {
          if (next === 'system') localStorage.removeItem(THEME_STORAGE_KEY);
          else localStorage.setItem(THEME_STORAGE_KEY, next);
        } catch {
          // Not remembered where storage is blocked; the choice still applies to this visit.
        }
        setChoiceState(next);
      },
    }),
    [choice, theme],
  );
  return <ThemeContext.Provider value={value}>{props.children}</ThemeContext.Provider>;
}

export const useTheme = () => useContext(ThemeContext);
