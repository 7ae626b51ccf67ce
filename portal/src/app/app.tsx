import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { TriangleAlert } from 'lucide-react';
import { useEffect, useMemo, useState } from 'react';
import { RouterProvider } from 'react-router';
import { Toaster } from 'sonner';
import { Spinner } from '../components/ui/spinner';
import { loadRuntimeConfig, type RuntimeConfig } from '../config/runtime-config';
import { apiKeyStore } from '../features/auth/api-key-store';
import { ApiKeyForm } from '../features/auth/components/api-key-form';
import { useDocumentTitle } from '../hooks/use-document-title';
import { ApiClient, errorMessage } from '../lib/api-client';
import { ApiProvider } from '../lib/api-context';
import { AutoRefreshProvider } from '../lib/auto-refresh';
import { ThemeProvider, useTheme } from '../lib/theme';
import { createAppRouter } from './router';
import { SessionContext } from './session';

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 1_000, refetchOnWindowFocus: true, retry: 1 },
      mutations: { retry: false },
    },
  });
}

/** Start-up: runtime config, then the API key, then the app; the colour scheme applies throughout. */
export function App(props: { config?: RuntimeConfig; router?: ReturnType<typeof createAppRouter> }) {
  return (
    <ThemeProvider>
      <Startup {...props} />
    </ThemeProvider>
  );
}

function Startup(props: { config?: RuntimeConfig; router?: ReturnType<typeof createAppRouter> }) {
  const [config, setConfig] = useState<RuntimeConfig | null>(props.config ?? null);
  const [configError, setConfigError] = useState<unknown>(null);
  useEffect(() => {
    if (config) return;
    loadRuntimeConfig().then(setConfig, setConfigError);
  }, [config]);

  if (configError) return <ConfigFailure error={configError} />;
  if (!config) {
    return (
      <div className="flex min-h-screen items-center justify-center">
        <Spinner label="Starting…" />
      </div>
    );
  }
  return <Authenticated config={config} {...(props.router ? { router: props.router } : {})} />;
}

function Authenticated(props: { config: RuntimeConfig; router?: ReturnType<typeof createAppRouter> }) {
  const [apiKey, setApiKey] = useState<string | null>(() => apiKeyStore.get());
  const [notice, setNotice] = useState<string | null>(null);
  const queryClient = useMemo(makeQueryClient, []);
  const { theme } = useTheme();
  const router = useMemo(() => props.router ?? createAppRouter(), [props.router]);
  const client = useMemo(
    () =>
      apiKey
        ? new ApiClient({
            baseUrl: props.config.apiBaseUrl,
            apiKey,
            onUnauthorized: () => {
              apiKeyStore.clear();
              queryClient.clear();
              setNotice('The API no longer accepts your key (401). Enter a valid key to continue.');
              setApiKey(null);
            },
          })
        : null,
    [apiKey, props.config.apiBaseUrl, queryClient],
  );
  const session = useMemo(
    () => ({
      signOut: () => {
        apiKeyStore.clear();
        queryClient.clear();
        setNotice(null);
        setApiKey(null);
      },
    }),
    [queryClient],
  );

  return (
    <>
      {client ? (
        <QueryClientProvider client={queryClient}>
          <ApiProvider client={client} config={props.config}>
            <AutoRefreshProvider>
              <SessionContext.Provider value={session}>
                <RouterProvider router={router} />
              </SessionContext.Provider>
            </AutoRefreshProvider>
          </ApiProvider>
        </QueryClientProvider>
      ) : (
        <ApiKeyForm
          config={props.config}
          notice={notice}
          onConnected={(key, remember) => {
            apiKeyStore.set(key, remember);
            setNotice(null);
            setApiKey(key);
          }}
        />
      )}
      <Toaster
        position="bottom-right"
        theme={theme}
        closeButton
        // Plain toasts (coloured icon, ink text) keep AA contrast; sonner's rich colours do not.
        toastOptions={{ classNames: { toast: 'font-sans', description: 'text-muted!' } }}
      />
    </>
  );
}

function ConfigFailure({ error }: { error: unknown }) {
  useDocumentTitle('Cannot start');
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div role="alert" className="max-w-md rounded-xl border border-bad/30 bg-surface p-6 shadow-sm">
        <div className="flex items-center gap-2 text-bad">
          <TriangleAlert aria-hidden className="size-5" />
          <h1 className="font-semibold">The portal could not start</h1>
        </div>
        <p className="mt-2 text-sm text-ink">{errorMessage(error)}</p>
        <p className="mt-2 text-[13px] text-muted">
          The portal reads the API&apos;s address from <code className="font-mono">/config.json</code>, which
          the deployment (or <code className="font-mono">npm start</code>) serves beside it.
        </p>
      </div>
    </main>
  );
}
