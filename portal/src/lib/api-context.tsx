import { createContext, type ReactNode, useContext } from 'react';
import type { RuntimeConfig } from '../config/runtime-config';
import type { ApiClient } from './api-client';

const ApiClientContext = createContext<ApiClient | null>(null);
const RuntimeConfigContext = createContext<RuntimeConfig | null>(null);

export function ApiProvider(props: { client: ApiClient; config: RuntimeConfig; children: ReactNode }) {
  return (
    <RuntimeConfigContext.Provider value={props.config}>
      <ApiClientContext.Provider value={props.client}>{props.children}</ApiClientContext.Provider>
    </RuntimeConfigContext.Provider>
  );
}

export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext);
  if (!client) throw new Error('useApiClient() needs an <ApiProvider>');
  return client;
}

export function useRuntimeConfig(): RuntimeConfig {
  const config = useContext(RuntimeConfigContext);
  if (!config) throw new Error('useRuntimeConfig() needs an <ApiProvider>');
  return config;
}
