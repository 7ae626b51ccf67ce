import { clsx } from 'clsx';
import { FileText, Info, LoaderCircle, Plus, Rocket, Trash2, X } from 'lucide-react';
import { type FormEvent, type ReactNode, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { toast } from 'sonner';
import { Button } from '../../../components/ui/button';
import { Card, CardBody, CardHeader } from '../../../components/ui/card';
import { FileDropzone } from '../../../components/ui/file-dropzone';
import { highlightJson } from '../../../components/ui/json-view';
import { ProgressBar } from '../../../components/ui/progress-bar';
import { ScrollArea } from '../../../components/ui/scroll-area';
import { OPENAI_WINDOW } from '../../../config/runtime-config';
import { errorMessage, type UploadProgress } from '../../../lib/api-client';
import { useRuntimeConfig } from '../../../lib/api-context';
import { formatBytes, formatNumber, formatPercent } from '../../../lib/format';
import { type Batch, type DedupMode, ENDPOINTS, type Endpoint, type Priority } from '../../../types/api';
import { useSubmitBatch } from '../api/create-batch';
import {
  isAbortError,
  MIN_PART_BYTES,
  PARALLEL_PARTS,
  type PresignedUploadState,
  planParts,
} from '../api/presigned-upload';
import { firstLines, type ValidationReport, validateJsonlFile } from '../utils/validate-jsonl';
import { UploadParts } from './upload-parts';
import { ValidationReportView } from './validation-report';

const MAX_METADATA = 16;
interface MetaRow {
  id: number;
  key: string;
  value: string;
}

/** Values a cloned batch brings into the form. */
export type BatchTemplate = Pick<
  Batch,
  'id' | 'endpoint' | 'completion_window' | 'metadata' | 'input_file_id'
> & {
  priority: Priority;
  dedup: DedupMode;
};

/** Deduplication choices, and what each sends as `openbatch.dedup` (nothing: the default, on). */
const DEDUP_CHOICES: { value: DedupMode; label: string; send?: false | 'include_sampling' }[] = [
  { value: 'on', label: 'On: reuse earlier answers to identical requests, except requests that sample' },
  { value: 'include_sampling', label: 'On, also for requests that sample', send: 'include_sampling' },
  { value: 'off', label: 'Off: run every request', send: false },
];

function detectEndpoint(lines: string[]): Endpoint | null {
  for (const l of lines) {
    try {
      const url = (JSON.parse(l) as { url?: unknown }).url;
      if (typeof url === 'string' && (ENDPOINTS as readonly string[]).includes(url)) return url as Endpoint;
    } catch {
      // not JSON: the validator reports it
    }
  }
  return null;
}

function metadataProblems(rows: MetaRow[]): string | null {
  const filled = rows.filter((r) => r.key.trim() || r.value.trim());
  if (filled.length > MAX_METADATA) return `At most ${MAX_METADATA} metadata keys.`;
  const keys = new Set<string>();
  for (const r of filled) {
    const k = r.key.trim();
    if (!k) return 'Every metadata value needs a key.';
    if (k.length > 64) return `Metadata key '${k.slice(0, 20)}…' is longer than 64 characters.`;
    if (r.value.length > 512) return `The value of '${k}' is longer than 512 characters.`;
    if (keys.has(k)) return `Metadata key '${k}' is used twice.`;
    keys.add(k);
  }
  return null;
}

type Phase = 'idle' | 'uploading' | 'completing' | 'cancelling' | 'creating';

/** What the live region says: the phase, and a part being retried; not every percent. */
function statusText(phase: Phase, parts: PresignedUploadState | null, fileName: string | null): string {
  switch (phase) {
    case 'idle':
      return '';
    case 'uploading': {
      if (!parts) return `Uploading ${fileName ?? 'the file'}…`;
      if (parts.phase === 'creating') return 'Starting a multipart upload…';
      const retrying = parts.parts.filter(
        (p) => p.status === 'retrying' || (p.status === 'uploading' && p.attempt > 1),
      );
      const base = `Uploading ${parts.parts.length} ${parts.parts.length === 1 ? 'part' : 'parts'} straight to storage…`;
      return retrying.length === 0
        ? base
        : `${base} Retrying ${retrying.length === 1 ? 'part' : 'parts'} ${retrying.map((p) => p.partNumber).join(', ')} with a fresh URL.`;
    }
    case 'completing':
      return 'All parts sent. Completing the upload…';
    case 'cancelling':
      return 'Cancelling the upload…';
    case 'creating':
      return 'Creating the batch…';
  }
}

/**
 * Create a batch: pick or drop a JSONL file, see its size and first lines, have it checked in
 * the browser with line numbers, set endpoint, window, priority and metadata, then upload (with
 * progress) and create. Files above the API's direct-upload limit go through the Uploads API in
 * pre-signed parts, each with its own progress. A clone starts from another batch's settings and
 * input file.
 */
export function CreateBatchForm(props: { template?: BatchTemplate | null }) {
  const config = useRuntimeConfig();
  const navigate = useNavigate();
  const submit = useSubmitBatch();
  const tpl = props.template ?? null;
  const ids = { endpoint: useId(), window: useId(), meta: useId(), dedup: useId() };

  const [file, setFile] = useState<File | null>(null);
  const [reuseInput, setReuseInput] = useState<boolean>(tpl !== null);
  const [endpoint, setEndpoint] = useState<Endpoint>(
    (ENDPOINTS as readonly string[]).includes(tpl?.endpoint ?? '')
      ? (tpl?.endpoint as Endpoint)
      : '/v1/chat/completions',
  );
  const [completionWindow, setCompletionWindow] = useState(
    tpl?.completion_window ??
      (config.completionWindows.includes(OPENAI_WINDOW) ? OPENAI_WINDOW : config.completionWindows[0]) ??
      OPENAI_WINDOW,
  );
  const [priority, setPriority] = useState<Priority>(tpl?.priority ?? 'normal');
  const [dedup, setDedup] = useState<DedupMode>(tpl?.dedup ?? 'on');
  const nextId = useRef(0);
  const row = (key = '', value = ''): MetaRow => ({ id: nextId.current++, key, value });
  const [meta, setMeta] = useState<MetaRow[]>(() => {
    const entries = Object.entries(tpl?.metadata ?? {});
    return entries.length > 0 ? entries.map(([k, v]) => row(k, v)) : [row()];
  });

  const [preview, setPreview] = useState<string[]>([]);
  /** The file whose first lines were read (and endpoint detected); validation waits for it. */
  const [inspected, setInspected] = useState<File | null>(null);
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [checking, setChecking] = useState(false);
  const [linesSeen, setLinesSeen] = useState(0);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [parts, setParts] = useState<PresignedUploadState | null>(null);
  const [phase, setPhase] = useState<Phase>('idle');
  /** How the last attempt ended (cancelled or failed), kept in the live region. */
  const [outcome, setOutcome] = useState('');
  const abort = useRef<AbortController | null>(null);
  // Progress events arrive many times a second per part: render at most once a frame.
  const pending = useRef<{ progress?: UploadProgress; parts?: PresignedUploadState } | null>(null);
  const frame = useRef<number | null>(null);
  const flush = () => {
    frame.current = null;
    const next = pending.current;
    pending.current = null;
    if (next?.progress) setProgress(next.progress);
    if (next?.parts) setParts(next.parts);
  };
  const schedule = (next: { progress?: UploadProgress; parts?: PresignedUploadState }) => {
    pending.current = { ...pending.current, ...next };
    if (frame.current === null) frame.current = requestAnimationFrame(flush);
  };
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  const inParts = file !== null && file.size > config.directUploadLimitBytes;

  // Preview and endpoint detection when a file is picked.
  useEffect(() => {
    if (!file) return;
    let live = true;
    void firstLines(file, 5).then((lines) => {
      if (!live) return;
      setPreview(lines);
      const detected = detectEndpoint(lines);
      if (detected) setEndpoint(detected);
      setInspected(file);
    });
    return () => {
      live = false;
    };
  }, [file]);

  // Validation whenever the file or the endpoint changes.
  useEffect(() => {
    if (!file || inspected !== file) {
      setReport(null);
      return;
    }
    let live = true;
    setChecking(true);
    setLinesSeen(0);
    void validateJsonlFile(file, endpoint, (n) => live && setLinesSeen(n))
      .then((r) => live && setReport(r))
      .catch((err) => live && toast.error('Could not read the file', { description: errorMessage(err) }))
      .finally(() => live && setChecking(false));
    return () => {
      live = false;
    };
  }, [file, endpoint, inspected]);

  const metaError = useMemo(() => metadataProblems(meta), [meta]);
  const usingClone = tpl !== null && reuseInput && file === null;
  const fileOk = usingClone || (file !== null && !checking && report !== null && report.errors.length === 0);
  const busy = phase !== 'idle';
  const canSubmit = fileOk && !metaError && !busy;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!canSubmit) return;
    const metadata = Object.fromEntries(
      meta.filter((r) => r.key.trim()).map((r) => [r.key.trim(), r.value] as const),
    );
    const dedupSend = DEDUP_CHOICES.find((c) => c.value === dedup)?.send;
    abort.current = new AbortController();
    setPhase(usingClone ? 'creating' : 'uploading');
    setProgress(null);
    setParts(null);
    setOutcome('');
    try {
      const batch = await submit.mutateAsync({
        file: usingClone && tpl ? { id: tpl.input_file_id } : (file as File),
        batch: {
          endpoint,
          completion_window: completionWindow,
          ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
          priority,
          ...(dedupSend === undefined ? {} : { openbatch: { dedup: dedupSend } }),
        },
        onProgress: (p) => {
          schedule({ progress: p });
          // A direct upload is done when its bytes are sent; parts report their phases.
          if (!inParts && p.loaded >= p.total) setPhase('creating');
        },
        onParts: (s) => {
          schedule({ parts: s });
          if (s.phase === 'completing') setPhase('completing');
          else if (s.phase === 'cancelling') setPhase('cancelling');
          else if (s.phase === 'done') setPhase('creating');
        },
        signal: abort.current.signal,
      });
      toast.success('Batch created', { description: `${batch.id} is validating its input.` });
      navigate(`/batches/${batch.id}`);
    } catch (err) {
      if (isAbortError(err)) {
        toast('Upload cancelled');
        setOutcome('Upload cancelled.');
      } else {
        toast.error('Could not create the batch', { description: errorMessage(err) });
        setOutcome(`Could not create the batch: ${errorMessage(err)}`);
      }
      setPhase('idle');
    }
  }

  const live = phase === 'idle' ? outcome : statusText(phase, parts, file?.name ?? null);
  const uploadActive = phase === 'uploading' || phase === 'completing' || phase === 'cancelling';

  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
      <div className="min-w-0 space-y-6">
        <Card aria-labelledby="input-file">
          <CardHeader
            id="input-file"
            title="Input file"
            description="A JSONL file: one request per line, as OpenAI's Batch API expects."
          />
          <CardBody className="space-y-4">
            {usingClone && tpl ? (
              <div className="flex flex-wrap items-center justify-between gap-3 rounded-lg border border-line bg-surface-2/50 px-4 py-3">
                <div className="flex min-w-0 items-center gap-3">
                  <FileText aria-hidden className="size-5 shrink-0 text-accent" />
                  <div className="min-w-0">
                    <p className="text-sm font-medium text-ink">Reusing the input file of {tpl.id}</p>
                    <p className="font-mono text-xs text-muted">{tpl.input_file_id}</p>
                  </div>
                </div>
                <Button size="sm" variant="ghost" onClick={() => setReuseInput(false)}>
                  Use another file
                </Button>
              </div>
            ) : null}
            {!usingClone && !file ? (
              <FileDropzone
                accept=".jsonl,.json,.txt,application/jsonl,application/x-ndjson"
                label="Drop a .jsonl file here, or"
                hint={`Checked in your browser before upload · above ${formatBytes(config.directUploadLimitBytes)}, sent in ${formatBytes(MIN_PART_BYTES)} parts straight to storage`}
                onFile={(f) => {
                  setReport(null);
                  setPreview([]);
                  setParts(null);
                  setOutcome('');
                  setFile(f);
                }}
              />
            ) : null}
            {file ? (
              <div className="space-y-4">
                <div className="flex flex-wrap items-center justify-between gap-3 rounded-lg border border-line px-4 py-3">
                  <div className="flex min-w-0 items-center gap-3">
                    <FileText aria-hidden className="size-5 shrink-0 text-accent" />
                    <div className="min-w-0">
                      <p className="truncate text-sm font-medium text-ink" data-testid="picked-file">
                        {file.name}
                      </p>
                      <p className="text-xs text-muted">
                        {formatBytes(file.size)}
                        {report ? ` · ${report.lines} lines` : ''}
                      </p>
                    </div>
                  </div>
                  <Button
                    size="sm"
                    variant="ghost"
                    disabled={busy}
                    onClick={() => {
                      setFile(null);
                      setReport(null);
                      setPreview([]);
                      setParts(null);
                      setOutcome('');
                    }}
                  >
                    <X aria-hidden className="size-3.5" />
                    Remove
                  </Button>
                </div>
                {inParts ? (
                  <p
                    className="flex items-start gap-2 rounded-lg bg-info-soft px-3 py-2 text-xs text-ink"
                    data-testid="upload-plan"
                  >
                    <Info aria-hidden className="mt-px size-3.5 shrink-0 text-info" />
                    <span>
                      {formatBytes(file.size)} is above the API's direct-upload limit (
                      {formatBytes(config.directUploadLimitBytes)}): the file goes through the Uploads API in{' '}
                      {planParts(file.size).length === 1
                        ? 'one part'
                        : `${formatNumber(planParts(file.size).length)} parts`}
                      , straight to storage, up to {PARALLEL_PARTS} at a time; a failed part is retried.
                    </span>
                  </p>
                ) : null}
                {parts && phase !== 'creating' ? <UploadParts state={parts} /> : null}
                {preview.length > 0 ? (
                  <div>
                    <p className="mb-1.5 text-xs font-medium text-muted">First {preview.length} lines</p>
                    <ScrollArea
                      label="First lines of the file"
                      className="overflow-x-auto rounded-lg border border-line bg-surface-2/40"
                    >
                      <ol className="py-1.5 font-mono text-xs leading-5">
                        {preview.map((l, i) => (
                          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
                          <li key={i} className="flex gap-3 px-3">
                            <span aria-hidden className="w-5 shrink-0 text-right text-muted/70 select-none">
                              {i + 1}
                            </span>
                            <span className="truncate whitespace-pre">{highlightJson(l)}</span>
                          </li>
                        ))}
                      </ol>
                    </ScrollArea>
                  </div>
                ) : null}
                <ValidationReportView report={report} checking={checking} lines={linesSeen} />
              </div>
            ) : null}
          </CardBody>
        </Card>

        <Card aria-labelledby="settings">
          <CardHeader id="settings" title="Settings" />
          <CardBody className="grid gap-5 sm:grid-cols-2">
            <div>
              <label htmlFor={ids.endpoint} className="block text-[13px] font-medium text-ink">
                Endpoint
              </label>
              <select
                id={ids.endpoint}
                value={endpoint}
                onChange={(e) => setEndpoint(e.target.value as Endpoint)}
                className="mt-1.5 h-9 w-full rounded-lg border border-line bg-surface px-2.5 font-mono text-[13px] text-ink"
              >
                {ENDPOINTS.map((e) => (
                  <option key={e} value={e}>
                    {e}
                  </option>
                ))}
              </select>
              <p className="mt-1 text-xs text-muted">Every line's url must be this endpoint.</p>
            </div>
            <div>
              <label htmlFor={ids.window} className="block text-[13px] font-medium text-ink">
                Completion window
              </label>
              <select
                id={ids.window}
                value={completionWindow}
                onChange={(e) => setCompletionWindow(e.target.value)}
                className="mt-1.5 h-9 w-full rounded-lg border border-line bg-surface px-2.5 text-sm text-ink"
              >
                {[...new Set([...config.completionWindows, completionWindow])].map((w) => (
                  <option key={w} value={w}>
                    {w}
                  </option>
                ))}
              </select>
              <p className="mt-1 text-xs text-muted">
                The SLA deadline: unfinished requests expire after it.
              </p>
            </div>
            <fieldset className="sm:col-span-2">
              <legend className="text-[13px] font-medium text-ink">Priority</legend>
              <div className="mt-1.5 grid gap-2 sm:grid-cols-3">
                {(
                  [
                    [
                      'low',
                      'Low',
                      'Spot; escalates to dedicated last, and takes the smallest share of a busy pool.',
                    ],
                    [
                      'normal',
                      'Normal',
                      'Spot; escalates to dedicated capacity when the deadline is at risk.',
                    ],
                    [
                      'high',
                      'High',
                      'Spot; escalates earliest and takes the largest share of a busy pool. May cost more.',
                    ],
                  ] as const
                ).map(([value, label, hint]) => (
                  <label
                    key={value}
                    className={clsx(
                      'flex cursor-pointer gap-3 rounded-lg border px-3 py-2.5 transition-colors has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-accent',
                      priority === value ? 'border-accent bg-accent-soft' : 'border-line hover:bg-surface-2',
                    )}
                  >
                    <input
                      type="radio"
                      name="priority"
                      value={value}
                      checked={priority === value}
                      onChange={() => setPriority(value)}
                      className="mt-0.5 size-4 accent-accent"
                    />
                    <span>
                      <span className="block text-sm font-medium text-ink">{label}</span>
                      <span className="block text-xs text-muted">{hint}</span>
                    </span>
                  </label>
                ))}
              </div>
            </fieldset>
            <div className="sm:col-span-2">
              <label htmlFor={ids.dedup} className="block text-[13px] font-medium text-ink">
                Deduplication
              </label>
              <select
                id={ids.dedup}
                value={dedup}
                onChange={(e) => setDedup(e.target.value as DedupMode)}
                className="mt-1.5 h-9 w-full rounded-lg border border-line bg-surface px-2.5 text-sm text-ink"
              >
                {DEDUP_CHOICES.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </select>
              <p className="mt-1 text-xs text-muted">
                A request answered before for this API key&apos;s tenant gets that answer again without
                running. A deployment with deduplication off runs every request.
              </p>
            </div>
            <fieldset className="sm:col-span-2" aria-describedby={ids.meta}>
              <legend className="text-[13px] font-medium text-ink">Metadata</legend>
              <p id={ids.meta} className="text-xs text-muted">
                Up to {MAX_METADATA} key/value pairs (keys ≤ 64, values ≤ 512 characters). Searchable in the
                list.
              </p>
              <div className="mt-2 space-y-2">
                {meta.map((r, i) => (
                  <div key={r.id} className="flex gap-2">
                    <input
                      aria-label={`Metadata key ${i + 1}`}
                      placeholder="key"
                      value={r.key}
                      onChange={(e) =>
                        setMeta((m) => m.map((x) => (x.id === r.id ? { ...x, key: e.target.value } : x)))
                      }
                      className="h-9 w-2/5 rounded-lg border border-line bg-surface px-2.5 font-mono text-[13px] text-ink placeholder:text-muted/70"
                    />
                    <input
                      aria-label={`Metadata value ${i + 1}`}
                      placeholder="value"
                      value={r.value}
                      onChange={(e) =>
                        setMeta((m) => m.map((x) => (x.id === r.id ? { ...x, value: e.target.value } : x)))
                      }
                      className="h-9 min-w-0 flex-1 rounded-lg border border-line bg-surface px-2.5 text-[13px] text-ink placeholder:text-muted/70"
                    />
                    <Button
                      variant="ghost"
                      aria-label={`Remove metadata ${i + 1}`}
                      onClick={() =>
                        setMeta((m) => (m.length > 1 ? m.filter((x) => x.id !== r.id) : [row()]))
                      }
                    >
                      <Trash2 aria-hidden className="size-4" />
                    </Button>
                  </div>
                ))}
              </div>
              <Button
                size="sm"
                className="mt-2"
                disabled={meta.length >= MAX_METADATA}
                onClick={() => setMeta((m) => [...m, row()])}
              >
                <Plus aria-hidden className="size-3.5" />
                Add metadata
              </Button>
              {metaError ? (
                <p role="alert" className="mt-2 text-[13px] text-bad">
                  {metaError}
                </p>
              ) : null}
            </fieldset>
          </CardBody>
        </Card>
      </div>

      <aside className="space-y-4 lg:sticky lg:top-20 lg:self-start">
        <Card aria-labelledby="summary">
          <CardHeader id="summary" title="Summary" />
          <CardBody className="space-y-3 text-[13px]" data-testid="create-summary">
            <SummaryRow label="File">
              {usingClone
                ? 'input of the cloned batch'
                : file
                  ? `${file.name} (${formatBytes(file.size)})`
                  : '—'}
            </SummaryRow>
            <SummaryRow label="Requests">{report && !usingClone ? report.requests : '—'}</SummaryRow>
            <SummaryRow label="Endpoint">
              <span className="font-mono text-xs">{endpoint}</span>
            </SummaryRow>
            <SummaryRow label="Window">{completionWindow}</SummaryRow>
            <SummaryRow label="Priority">{priority}</SummaryRow>
            <SummaryRow label="Deduplication">
              {dedup === 'include_sampling' ? 'on, sampling too' : dedup}
            </SummaryRow>
            {uploadActive ? (
              <div className="space-y-1.5 pt-1" data-testid="upload-progress">
                <div className="flex justify-between text-xs text-muted">
                  <span>
                    {progress
                      ? `${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}`
                      : 'Uploading…'}
                  </span>
                  <span className="tabular-nums" data-testid="upload-percent">
                    {progress ? formatPercent(progress.loaded, progress.total) : '0%'}
                  </span>
                </div>
                <ProgressBar
                  value={progress?.loaded ?? 0}
                  max={progress?.total ?? 1}
                  label="Upload progress"
                  valueText={
                    progress
                      ? `${formatPercent(progress.loaded, progress.total)}: ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}`
                      : 'Starting'
                  }
                />
              </div>
            ) : null}
            <p
              role="status"
              data-testid="upload-status"
              className={clsx('flex items-start gap-2 text-xs text-muted', live === '' && 'sr-only')}
            >
              {phase !== 'idle' ? (
                <LoaderCircle aria-hidden className="mt-px size-3.5 shrink-0 animate-spin" />
              ) : null}
              <span>{live}</span>
            </p>
            <div className="flex gap-2 pt-1">
              <Button type="submit" variant="primary" className="flex-1" disabled={!canSubmit}>
                <Rocket aria-hidden className="size-4" />
                {usingClone ? 'Create batch' : 'Upload and create'}
              </Button>
              {phase === 'uploading' ? (
                <Button onClick={() => abort.current?.abort()} aria-label="Cancel upload">
                  <X aria-hidden className="size-4" />
                </Button>
              ) : null}
            </div>
          </CardBody>
        </Card>
      </aside>
    </form>
  );
}

function SummaryRow(props: { label: string; children: ReactNode }) {
  return (
    <div className="flex justify-between gap-3">
      <span className="text-muted">{props.label}</span>
      <span className="min-w-0 truncate text-right font-medium text-ink">{props.children}</span>
    </div>
  );
}
