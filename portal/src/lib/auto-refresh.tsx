import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';

export const AUTO_REFRESH_MS = 2_000;
const STORAGE_KEY = 'openbatch.autoRefresh';

interface AutoRefresh {
  enabled: boolean;
  setEnabled(on: boolean): void;
  intervalMs: number;
}

const AutoRefreshContext = createContext<AutoRefresh>({
  enabled: true,
  setEnabled: () => {},
  intervalMs: AUTO_REFRESH_MS,
});

/** The user's auto-refresh switch, remembered on this device. Queries poll only while work is active. */
export function AutoRefreshProvider(props: { children: ReactNode; intervalMs?: number }) {
  const [enabled, setEnabledState] = useState(() => localStorage.getItem(STORAGE_KEY) !== 'off');
  const value = useMemo<AutoRefresh>(
    () => ({
      enabled,
      intervalMs: props.intervalMs ?? AUTO_REFRESH_MS,
      setEnabled: (on) => {
        localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
        setEnabledState(on);
      },
    }),
    [enabled, props.intervalMs],
  );
  return <AutoRefreshContext.Provider value={value}>{props.children}</AutoRefreshContext.Provider>;
}

export const useAutoRefresh = () => useContext(AutoRefreshContext);
