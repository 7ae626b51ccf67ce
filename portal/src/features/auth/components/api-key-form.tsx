import { Eye, EyeOff, KeyRound, LoaderCircle } from 'lucide-react';
import { type FormEvent, useId, useState } from 'react';
import { Button } from '../../../components/ui/button';
import type { RuntimeConfig } from '../../../config/runtime-config';
import { useDocumentTitle } from '../../../hooks/use-document-title';
import { ApiClient, ApiError, errorMessage } from '../../../lib/api-client';

/**
 * The sign-in screen: the user pastes an API key, the portal checks it with one cheap call
 * (`GET /batches?limit=1`) and keeps it only once the API accepted it.
 */
export function ApiKeyForm(props: {
  config: RuntimeConfig;
  notice?: string | null;
  onConnected(apiKey: string, remember: boolean): void;
}) {
  const [key, setKey] = useState('');
  const [remember, setRemember] = useState(false);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { key: useId(), remember: useId(), error: useId() };
  useDocumentTitle('Sign in');

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = key.trim();
    if (!value) {
      setError('Enter your API key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await new ApiClient({ baseUrl: props.config.apiBaseUrl, apiKey: value }).get('/batches', { limit: 1 });
      props.onConnected(value, remember);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'The API rejected this key (401). Check it and try again.'
          : errorMessage(err),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center bg-canvas px-4 py-10">
      <div className="w-full max-w-md">
        <div className="mb-6 flex items-center justify-center gap-2.5">
          <img src="/favicon.svg" alt="" className="size-9" />
          <span className="text-xl font-semibold tracking-tight text-ink">openbatch</span>
        </div>
        <form
          onSubmit={submit}
          noValidate
          className="rounded-2xl border border-line bg-surface p-6 shadow-sm"
          aria-describedby={error ? ids.error : undefined}
        >
          <h1 className="text-lg font-semibold text-ink">Connect to your batch API</h1>
          <p className="mt-1 text-sm text-muted">
            Enter an API key for{' '}
            <span className="font-mono text-[13px] break-all text-ink">{props.config.apiBaseUrl}</span>.
          </p>
          {props.notice ? (
            <p className="mt-4 rounded-lg bg-warn-soft px-3 py-2 text-[13px] text-warn">{props.notice}</p>
          ) : null}
          <label htmlFor={ids.key} className="mt-5 block text-[13px] font-medium text-ink">
            API key
          </label>
          <div className="relative mt-1.5">
            <KeyRound aria-hidden className="pointer-events-none absolute top-2.5 left-3 size-4 text-muted" />
            <input
              id={ids.key}
              name="apiKey"
              type={show ? 'text' : 'password'}
              autoComplete="off"
              spellCheck={false}
              // biome-ignore lint/a11y/noAutofocus: the only field on the sign-in screen
              autoFocus
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-invalid={error ? true : undefined}
              placeholder="sk-…"
              className="h-10 w-full rounded-lg border border-line bg-surface pr-10 pl-9 font-mono text-sm text-ink placeholder:text-muted/70 focus:border-accent focus:outline-none focus-visible:outline-2 focus-visible:outline-accent"
            />
            <button
              type="button"
              onClick={() => setShow((s) => !s)}
              aria-label={show ? 'Hide key' : 'Show key'}
              className="absolute top-1.5 right-1.5 rounded-md p-1.5 text-muted hover:bg-surface-2 hover:text-ink"
            >
              {show ? <EyeOff aria-hidden className="size-4" /> : <Eye aria-hidden className="size-4" />}
            </button>
          </div>
          {error ? (
            <p id={ids.error} role="alert" className="mt-2 text-[13px] text-bad">
              {error}
            </p>
          ) : null}
          <label htmlFor={ids.remember} className="mt-4 flex items-center gap-2 text-[13px] text-muted">
            <input
              id={ids.remember}
              type="checkbox"
              checked={remember}
              onChange={(e) => setRemember(e.target.checked)}
              className="size-4 accent-accent"
            />
            Remember on this device (otherwise only for this tab)
          </label>
          <Button type="submit" variant="primary" className="mt-5 h-10 w-full" disabled={busy}>
            {busy ? <LoaderCircle aria-hidden className="size-4 animate-spin" /> : null}
            {busy ? 'Checking…' : 'Connect'}
          </Button>
        </form>
        <p className="mt-4 text-center text-xs text-muted">
          Environment <span className="font-medium text-ink">{props.config.environment}</span> · the key is
          sent only to this API.
        </p>
      </div>
    </main>
  );
}
