import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';

/** When any query last received data (ms since epoch), and whether any query is fetching. */
export function useLastUpdated(): { updatedAt: number; fetching: boolean } {
  const qc = useQueryClient();
  const cache = qc.getQueryCache();
  const subscribe = useCallback((cb: () => void) => cache.subscribe(cb), [cache]);
  const updatedAt = useSyncExternalStore(subscribe, () =>
    cache.getAll().reduce((m, q) => Math.max(m, q.state.dataUpdatedAt), 0),
  );
  const fetching = useSyncExternalStore(subscribe, () =>
    cache.getAll().some((q) => q.state.fetchStatus === 'fetching'),
  );
  return { updatedAt, fetching };
}
