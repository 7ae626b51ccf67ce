// @vitest-environment happy-dom
import { cleanup, configure, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../portal/src/app/app.js';
import { createAppRouter } from '../../portal/src/app/router.js';
import { RequestProgress } from '../../portal/src/components/ui/progress-bar.js';
import { StatusBadge } from '../../portal/src/components/ui/status-badge.js';
import { BatchesTable } from '../../portal/src/features/batches/components/batches-table.js';
import { CreateBatchForm } from '../../portal/src/features/batches/components/create-batch-form.js';
import { RecentBatches } from '../../portal/src/features/dashboard/components/recent-batches.js';
import { batch, extension } from './support/fixtures.js';
import { fakeFetch, renderWithApp, testConfig } from './support/render.js';

// Lazy routes load modules on first render; on a busy 2-core machine that can take seconds.
configure({ asyncUtilTimeout: 10_000 });

const NOW = 1_800_000_000_000;
const s = NOW / 1000;

beforeEach(() => {
  sessionStorage.clear();
  localStorage.clear();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('StatusBadge', () => {
  it('tells the status in words, not colour alone', () => {
    render(<StatusBadge status="in_progress" />);
    expect(screen.getByTestId('batch-status').textContent).toBe('In progress');
  });
});

describe('RequestProgress legend', () => {
  const legend = (el: HTMLElement) =>
    [...el.querySelectorAll('span.inline-flex')].map((s) => s.textContent?.trim()).join(', ');
  it('names pending requests while a batch runs, and "not run" only when some never will', () => {
    const running = render(<RequestProgress total={10} completed={2} failed={1} showLegend />);
    expect(legend(running.container)).toBe('Succeeded 2, Failed 1, Pending 7');
    running.unmount();
    const finished = render(<RequestProgress total={3} completed={2} failed={1} notRun={0} showLegend />);
    expect(legend(finished.container)).toBe('Succeeded 2, Failed 1');
    finished.unmount();
    const cancelled = render(<RequestProgress total={8} completed={2} failed={1} notRun={5} showLegend />);
    expect(legend(cancelled.container)).toBe('Succeeded 2, Failed 1, Not run 5');
  });
});

describe('RecentBatches', () => {
  it('tells failures in words with an icon, not by the bar colour alone', () => {
    renderWithApp(
      <RecentBatches
        batches={[
          batch({ id: 'batch_bad', created_at: s - 60 }, { total: 40, completed: 37, failed: 3 }),
          batch({ id: 'batch_good', created_at: s - 30 }, { total: 10, completed: 10, failed: 0 }),
        ]}
        nowMs={NOW}
      />,
      { route: () => ({}) },
    );
    const failed = screen.getAllByTestId('recent-failed');
    expect(failed.map((f) => f.textContent)).toEqual(['3 failed']);
    expect(failed[0]?.querySelector('svg')).toBeTruthy();
    expect(within(screen.getByRole('link', { name: /batch_bad/ })).getByText('3 failed')).toBeTruthy();
  });
});

describe('BatchesTable', () => {
  const batches = [
    batch(
      { id: 'batch_a', status: 'completed', created_at: s - 100, metadata: { team: 'search' } },
      {
        total: 10,
        completed: 10,
        failed: 0,
      },
    ),
    batch(
      { id: 'batch_b', status: 'in_progress', created_at: s - 50 },
      { total: 10, completed: 2, failed: 0 },
    ),
    batch({ id: 'batch_c', status: 'failed', created_at: s - 3 * 86_400, endpoint: '/v1/embeddings' }),
  ];
  const rows = () =>
    screen.getAllByTestId('batch-row').map((r) => within(r).getAllByRole('link')[0]?.textContent);

  it('counts batches per status and filters on a click', async () => {
    const user = userEvent.setup();
    renderWithApp(<BatchesTable batches={batches} nowMs={NOW} />, { route: () => ({}) });
    expect(rows()).toEqual(['batch_b', 'batch_a', 'batch_c']);
    await user.click(screen.getByRole('button', { name: 'Completed 1' }));
    expect(rows()).toEqual(['batch_a']);
    expect(screen.getByRole('button', { name: 'Completed 1' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('searches ids and metadata, and filters by endpoint and date', async () => {
    const user = userEvent.setup();
    renderWithApp(<BatchesTable batches={batches} nowMs={NOW} />, { route: () => ({}) });
    await user.type(screen.getByRole('searchbox', { name: /Search batches/ }), 'team:search');
    expect(rows()).toEqual(['batch_a']);
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Endpoint' }), '/v1/embeddings');
    expect(rows()).toEqual(['batch_c']);
    await user.selectOptions(screen.getByRole('combobox', { name: 'Endpoint' }), '');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Created' }), '24h');
    expect(rows()).toEqual(['batch_b', 'batch_a']);
  });

  it('sorts by a column', async () => {
    const user = userEvent.setup();
    renderWithApp(<BatchesTable batches={batches} nowMs={NOW} />, { route: () => ({}) });
    await user.click(screen.getByRole('button', { name: /^Batch/ }));
    expect(rows()).toEqual(['batch_a', 'batch_b', 'batch_c']);
    expect(screen.getAllByRole('columnheader')[0]?.getAttribute('aria-sort')).toBe('ascending');
  });

  it('cancels a batch from its row after confirmation', async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApp(<BatchesTable batches={batches} nowMs={NOW} />, {
      route: (method, path) =>
        method === 'POST' && path === '/batches/batch_b/cancel'
          ? batch({ id: 'batch_b', status: 'cancelling' })
          : { object: 'list', data: [], has_more: false, first_id: null, last_id: null },
    });
    expect(screen.queryByRole('button', { name: 'Cancel batch_a' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Cancel batch_b' }));
    const dialog = screen.getByRole('dialog', { hidden: true });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel batch', hidden: true }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === 'POST' && c.path === '/batches/batch_b/cancel')).toBe(true),
    );
  });
});

describe('CreateBatchForm', () => {
  const good = (id: string) =>
    JSON.stringify({
      custom_id: id,
      method: 'POST',
      url: '/v1/embeddings',
      body: { model: 'm', input: 'x' },
    });

  it('checks the picked file in the browser and lists problems by line', async () => {
    const user = userEvent.setup();
    renderWithApp(<CreateBatchForm />, { route: () => ({}) });
    const file = new File([[good('1'), 'oops', good('1')].join('\n')], 'in.jsonl');
    await user.upload(document.querySelector('input[type=file]') as HTMLInputElement, file);
    const problems = await screen.findAllByTestId('validation-error');
    expect(problems.map((p) => p.textContent)).toEqual([
      'Line 2invalid_json_lineThis line is not parseable as valid JSON.',
      "Line 3invalid_requestThe custom_id '1' is used more than once; each request needs a unique custom_id.",
    ]);
    // The endpoint was taken from the file's first line.
    expect((screen.getByRole('combobox', { name: 'Endpoint' }) as HTMLSelectElement).value).toBe(
      '/v1/embeddings',
    );
    expect((screen.getByRole('button', { name: /Upload and create/ }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it("offers the deployment's completion windows, starting on 24h, and the three priorities", async () => {
    const user = userEvent.setup();
    renderWithApp(<CreateBatchForm />, {
      route: () => ({}),
      config: { completionWindows: ['1h', '24h', '7d'] },
    });
    const window = screen.getByRole('combobox', { name: 'Completion window' }) as HTMLSelectElement;
    expect([...window.options].map((o) => o.value)).toEqual(['1h', '24h', '7d']);
    expect(window.value).toBe('24h');
    const priorities = screen.getAllByRole('radio') as HTMLInputElement[];
    expect(priorities.map((r) => r.value)).toEqual(['low', 'normal', 'high']);
    expect(priorities.find((r) => r.checked)?.value).toBe('normal');
    await user.selectOptions(window, '1h');
    await user.click(screen.getByRole('radio', { name: /^Low/ }));
    const summary = screen.getByTestId('create-summary').textContent;
    expect(summary).toContain('Window1h');
    expect(summary).toContain('Prioritylow');
  });

  it("clones a batch's settings, deduplication included, and sends openbatch.dedup only when not the default", async () => {
    const user = userEvent.setup();
    const template = {
      id: 'batch_src',
      endpoint: '/v1/embeddings',
      completion_window: '24h',
      metadata: null,
      input_file_id: 'file-src',
      priority: 'high' as const,
      dedup: 'off' as const,
    };
    const route = (method: string, path: string) =>
      method === 'POST' && path === '/batches' ? batch({ id: 'batch_new', status: 'validating' }) : {};
    const view = renderWithApp(
      <Routes>
        <Route path="/new" element={<CreateBatchForm template={template} />} />
        <Route path="/batches/:id" element={<p>batch page</p>} />
      </Routes>,
      { route, path: '/new' },
    );
    const dedup = screen.getByRole('combobox', { name: 'Deduplication' }) as HTMLSelectElement;
    expect(dedup.value).toBe('off');
    await user.click(screen.getByRole('button', { name: 'Create batch' }));
    await screen.findByText('batch page');
    expect(view.calls.at(-1)?.body).toEqual({
      input_file_id: 'file-src',
      endpoint: '/v1/embeddings',
      completion_window: '24h',
      priority: 'high',
      openbatch: { dedup: false },
    });
  });

  it('sends no openbatch extension when deduplication stays on (the default)', async () => {
    const user = userEvent.setup();
    const route = (method: string, path: string) =>
      method === 'POST' && path === '/batches' ? batch({ id: 'batch_new', status: 'validating' }) : {};
    const view = renderWithApp(
      <Routes>
        <Route
          path="/new"
          element={
            <CreateBatchForm
              template={{
                id: 'batch_src',
                endpoint: '/v1/embeddings',
                completion_window: '24h',
                metadata: null,
                input_file_id: 'file-src',
                priority: 'normal',
                dedup: 'on',
              }}
            />
          }
        />
        <Route path="/batches/:id" element={<p>batch page</p>} />
      </Routes>,
      { route, path: '/new' },
    );
    await user.selectOptions(screen.getByRole('combobox', { name: 'Deduplication' }), 'include_sampling');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Deduplication' }), 'on');
    await user.click(screen.getByRole('button', { name: 'Create batch' }));
    await screen.findByText('batch page');
    expect(view.calls.at(-1)?.body).not.toHaveProperty('openbatch');
  });

  it('shows size and first lines of a valid file and plans one above the direct limit in parts', async () => {
    const user = userEvent.setup();
    renderWithApp(<CreateBatchForm />, { route: () => ({}) });
    const big = `${good('1')}\n${' '.repeat(testConfig.directUploadLimitBytes)}`;
    await user.upload(
      document.querySelector('input[type=file]') as HTMLInputElement,
      new File([big], 'big.jsonl'),
    );
    await screen.findByTestId('validation-ok');
    expect(screen.getByTestId('upload-plan').textContent).toMatch(
      /4\.0 MiB is above the API's direct-upload limit \(4\.0 MiB\): the file goes through the Uploads API in one part/,
    );
    expect(screen.getByText('First 2 lines')).toBeTruthy();
    expect((screen.getByRole('button', { name: /Upload and create/ }) as HTMLButtonElement).disabled).toBe(
      false,
    );
  });

  describe('above the direct limit: pre-signed parts', () => {
    /** XMLHttpRequest as the part PUTs use it; the test answers each one. */
    class PartXhr {
      static all: PartXhr[] = [];
      url = '';
      status = 0;
      responseText = '';
      aborted = false;
      upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      ontimeout: (() => void) | null = null;
      onabort: (() => void) | null = null;
      onloadend: (() => void) | null = null;
      body: Blob | null = null;
      open(_method: string, url: string) {
        this.url = url;
        PartXhr.all.push(this);
      }
      send(body: Blob) {
        this.body = body;
      }
      abort() {
        this.aborted = true;
        this.onabort?.();
        this.onloadend?.();
      }
      progress(loaded: number) {
        this.upload.onprogress?.({ loaded });
      }
      answer(status: number) {
        this.status = status;
        this.onload?.();
        this.onloadend?.();
      }
    }

    const upload = (over: Record<string, unknown> = {}) => ({
      id: 'upload_1',
      object: 'upload',
      bytes: 100,
      created_at: s,
      filename: 'parts.jsonl',
      purpose: 'batch',
      status: 'pending',
      expires_at: s + 3600,
      file: null,
      ...over,
    });
    let urls = 0;
    const route = (method: string, path: string) => {
      if (method === 'POST' && path === '/uploads') return upload();
      if (path === '/openbatch/uploads/upload_1/part_urls')
        return {
          object: 'list',
          data: [{ part_number: 1, url: `https://s3.test/p1?sig=${++urls}`, expires_at: s }],
        };
      if (path === '/uploads/upload_1/complete')
        return upload({ status: 'completed', file: { id: 'file-parts', object: 'file', bytes: 100 } });
      if (path === '/uploads/upload_1/cancel') return upload({ status: 'cancelled' });
      if (method === 'POST' && path === '/batches') return batch({ id: 'batch_parts', status: 'validating' });
      return {};
    };

    async function startUpload() {
      PartXhr.all = [];
      vi.stubGlobal('XMLHttpRequest', PartXhr);
      const user = userEvent.setup();
      const view = renderWithApp(
        <Routes>
          <Route path="/new" element={<CreateBatchForm />} />
          <Route path="/batches/:id" element={<p>batch page</p>} />
        </Routes>,
        { route, path: '/new', config: { directUploadLimitBytes: 64 } },
      );
      const content = [good('1'), good('2'), good('3')].join('\n');
      await user.upload(
        document.querySelector('input[type=file]') as HTMLInputElement,
        new File([content], 'parts.jsonl'),
      );
      await screen.findByTestId('validation-ok');
      expect(screen.getByTestId('upload-plan').textContent).toContain('in one part');
      await user.click(screen.getByRole('button', { name: /Upload and create/ }));
      await waitFor(() => expect(PartXhr.all).toHaveLength(1));
      return { user, view, size: content.length };
    }

    it('shows overall and per-part progress, retries a failed part with a fresh URL, then creates the batch', async () => {
      const { view, size } = await startUpload();
      const first = PartXhr.all[0] as PartXhr;
      expect(first.url).toBe('https://s3.test/p1?sig=1');
      first.progress(size / 2);
      const part = await screen.findByRole('progressbar', { name: 'Part 1 of 1' });
      await waitFor(() => expect(part.getAttribute('aria-valuenow')).toBe('50'));
      expect(part.getAttribute('aria-valuetext')).toMatch(/^Uploading: /);
      expect(screen.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('aria-valuenow')).toBe(
        '50',
      );
      expect(screen.getByTestId('upload-status').textContent).toBe('Uploading 1 part straight to storage…');
      expect(screen.getByTestId('upload-parts-summary').textContent).toBe('0 of 1 parts done · 1 uploading');

      first.answer(503);
      await waitFor(() =>
        expect(screen.getByTestId('upload-part-status').textContent).toMatch(/^Failed, retrying/),
      );
      expect(screen.getByTestId('upload-status').textContent).toMatch(/Retrying part 1 with a fresh URL\.$/);
      expect(screen.getByText('Last error: Storage answered HTTP 503.')).toBeTruthy();
      await waitFor(() => expect(PartXhr.all).toHaveLength(2), { timeout: 3_000 });
      const second = PartXhr.all[1] as PartXhr;
      expect(second.url).toBe('https://s3.test/p1?sig=2');
      await waitFor(() =>
        expect(screen.getByTestId('upload-part-status').textContent).toBe('Uploading, try 2 of 4'),
      );
      second.progress(size);
      second.answer(200);
      await screen.findByText('batch page');
      expect(view.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
        'POST /uploads',
        'POST /openbatch/uploads/upload_1/part_urls',
        'POST /openbatch/uploads/upload_1/part_urls',
        'POST /uploads/upload_1/complete',
        'POST /batches',
      ]);
      expect(view.calls.at(-1)?.body).toMatchObject({
        input_file_id: 'file-parts',
        endpoint: '/v1/embeddings',
      });
    });

    it('cancels: aborts the part and cancels the upload', async () => {
      const { user, view } = await startUpload();
      await user.click(screen.getByRole('button', { name: 'Cancel upload' }));
      await waitFor(() => expect(screen.getByTestId('upload-status').textContent).toBe('Upload cancelled.'));
      expect(PartXhr.all[0]?.aborted).toBe(true);
      expect(view.calls.map((c) => `${c.method} ${c.path}`)).toContain('POST /uploads/upload_1/cancel');
      expect(view.calls.some((c) => c.path === '/batches' || c.path.endsWith('/complete'))).toBe(false);
      expect((screen.getByRole('button', { name: /Upload and create/ }) as HTMLButtonElement).disabled).toBe(
        false,
      );
    });
  });
});

describe('the app, at route level against a fake API', () => {
  const done = batch(
    {
      id: 'batch_done',
      status: 'completed',
      in_progress_at: s - 30,
      completed_at: s - 10,
      created_at: s - 40,
      output_file_id: 'file-out',
      error_file_id: 'file-err',
      metadata: { project: 'docs' },
      usage: {
        input_tokens: 1_200,
        input_tokens_details: { cached_tokens: 200 },
        output_tokens: 300,
        output_tokens_details: { reasoning_tokens: 40 },
        total_tokens: 1_500,
      },
      openbatch: extension({
        priority: 'normal',
        sla: { deadline_at: s + 86_000, state: 'met' },
        pools: { spot: 3, dedicated: 0 },
        chunks: { total: 1, done: 1, escalated: 0, interruptions: 1 },
        reused: 1,
        admission_warning: '3 requests need 0.2 task-hours; 0.1 are free before the deadline',
        cost: {
          estimate: true,
          currency: 'usd',
          total: 0.12,
          by_pool: { spot: 0.12, dedicated: 0 },
          all_dedicated: 0.32,
          saving: 0.2,
          basis: '5 requests/s per task; $0.3 (spot) and $0.8048 (on-demand) per task-hour',
        },
      }),
    },
    { total: 3, completed: 2, failed: 1 },
  );
  const api = fakeFetch((_method, path) => {
    if (path.startsWith('/batches/batch_done')) return done;
    if (path.startsWith('/openbatch/batches/batch_done/chunks'))
      return {
        object: 'list',
        data: [
          {
            object: 'batch.chunk',
            chunk: 0,
            status: 'done',
            requests: 3,
            completed: 2,
            failed: 1,
            pool: 'spot',
            escalated: false,
            interruptions: 1,
            line_start: 1,
            line_end: 3,
          },
        ],
      };
    if (path === '/files/file-out/content')
      return new Response(
        `${JSON.stringify({ id: 'r1', custom_id: 'q-1', response: { status_code: 200, request_id: 'x', body: {} }, error: null })}\n`,
      );
    if (path === '/files/file-err/content')
      return new Response(
        `${JSON.stringify({ id: 'r3', custom_id: 'q-3', response: { status_code: 500, request_id: 'y', body: { error: { message: 'boom' } } }, error: null })}\n`,
      );
    if (path.startsWith('/files/'))
      return { id: path.split('/')[2], object: 'file', bytes: 120, filename: 'x.jsonl' };
    return new Response(
      JSON.stringify({
        error: { message: 'not found', type: 'invalid_request_error', param: null, code: null },
      }),
      {
        status: 404,
      },
    );
  });

  it('shows a batch: counts, chunks, metadata, tokens, the cost estimate and per-request outcomes', async () => {
    vi.stubGlobal('fetch', api.fetch);
    sessionStorage.setItem('openbatch.apiKey', 'sk-test');
    const user = userEvent.setup();
    render(<App config={testConfig} router={createAppRouter({ initialEntries: ['/batches/batch_done'] })} />);
    expect((await screen.findByTestId('batch-id')).textContent).toBe('batch_done');
    expect(screen.getByTestId('count-completed').textContent).toBe('2');
    expect(screen.getByTestId('count-failed').textContent).toBe('1');
    expect(await screen.findAllByTestId('chunk-row')).toHaveLength(1);
    expect(screen.getByText('docs')).toBeTruthy();
    // Tokens and the cost estimate, as the API reports them, the cost named an estimate.
    expect(screen.getByTestId('usage').textContent).toBe(
      'Input tokens1,200200 cachedOutput tokens30040 reasoningTotal tokens1,500',
    );
    const cost = screen.getByTestId('cost-estimate');
    expect(within(cost).getByText('estimate')).toBeTruthy();
    // Admitted with a warning (SLA_ADMISSION=warn): said above the progress, with the reason.
    expect(screen.getByTestId('admission-warning').textContent).toBe(
      'Admitted with a warning: it may miss its window. 3 requests need 0.2 task-hours; 0.1 are free before the deadline',
    );
    // Deduplication: the mode in the details, the reused answers told in words.
    expect(screen.getByTestId('reused').textContent).toBe(
      "reused1 request was answered with an earlier identical request's answer (deduplication), without running.",
    );
    expect(screen.getByText('Deduplication').nextElementSibling?.textContent).toBe('on');
    expect(screen.getByTestId('cost-saving').textContent).toBe(
      'All on dedicated, an estimated $0.32: spot saved an estimated $0.20 (63%).',
    );
    // One failure on spot, told as a failure: the pool figure never counts it as completed.
    expect(screen.getByTestId('pool-spot').textContent).toBe('Spot 3 (100%)1 failed');
    expect(screen.getByTestId('success-rate').textContent).toBe('Success rate 67% of 3 finished requests.');
    expect(screen.getByText('Processed 3 requests in 20s.')).toBeTruthy();
    expect(document.title).toBe('batch_done · Completed · openbatch');
    await user.click(await screen.findByRole('button', { name: /^Failed 1/ }));
    expect(screen.getByText('q-3')).toBeTruthy();
    expect(screen.queryByText('q-1')).toBeNull();
    expect(api.calls.every((c) => c.method === 'GET')).toBe(true);
  });

  it('gives every page its own document title, and React Router nothing to warn about', async () => {
    vi.stubGlobal('fetch', api.fetch);
    sessionStorage.setItem('openbatch.apiKey', 'sk-test');
    const warn = vi.spyOn(console, 'warn');
    const expected: Record<string, string> = {
      '/': 'Dashboard · openbatch',
      '/batches': 'Batches · openbatch',
      '/batches/new': 'New batch · openbatch',
      '/batches/new?from=batch_done': 'Clone batch_done · openbatch',
      '/batches/batch_done': 'batch_done · Completed · openbatch',
      '/batches/batch_gone': 'batch_gone · Not found · openbatch',
      '/nowhere': 'Page not found · openbatch',
    };
    const titles = new Map<string, string>();
    for (const [path, heading] of [
      ['/', 'Dashboard'],
      ['/batches', 'Batches'],
      ['/batches/new', 'New batch'],
      ['/batches/new?from=batch_done', 'Clone batch'],
      ['/batches/batch_done', 'batch_done'],
      ['/batches/batch_gone', 'batch_gone'],
      ['/nowhere', 'Page not found'],
    ] as const) {
      const view = render(<App config={testConfig} router={createAppRouter({ initialEntries: [path] })} />);
      await screen.findByRole('heading', { level: heading === 'Page not found' ? 3 : 1, name: heading });
      if (path === '/batches/batch_done') await screen.findByTestId('batch-status');
      if (path === '/batches/batch_gone') await screen.findByText('No such batch');
      // The title is set by an effect once the page's data is in: wait for it to settle (under
      // load it can lag the heading), then record what it settled on.
      await vi.waitFor(() => expect(document.title).toBe(expected[path]));
      titles.set(path, document.title);
      view.unmount();
    }
    expect(Object.fromEntries(titles)).toEqual(expected);
    expect(new Set(titles.values()).size).toBe(titles.size);
    expect(warn.mock.calls.flat().join('\n')).not.toMatch(/HydrateFallback/);
    warn.mockRestore();
  });

  it('shows the progress card and the chunks from one snapshot, so they agree once the batch completes', async () => {
    let state: 'running' | 'done' = 'running';
    const running = batch(
      { id: 'batch_live', status: 'in_progress', in_progress_at: s - 30, created_at: s - 40 },
      { total: 20, completed: 10, failed: 0 },
    );
    const completed = batch(
      {
        id: 'batch_live',
        status: 'completed',
        in_progress_at: s - 30,
        completed_at: s - 1,
        created_at: s - 40,
      },
      { total: 20, completed: 19, failed: 1 },
    );
    const chunkRow = (n: number, done: boolean) => ({
      object: 'batch.chunk',
      chunk: n,
      status: done ? 'done' : 'pending',
      requests: 10,
      completed: done ? (n === 0 ? 10 : 9) : 0,
      failed: done && n === 1 ? 1 : 0,
      pool: done ? 'spot' : null,
      escalated: false,
      interruptions: 0,
      line_start: n * 10 + 1,
      line_end: n * 10 + 10,
    });
    // The chunks answer late, as a second request does while the batch's status has moved on.
    const live = fakeFetch((_m, path) => {
      if (path.startsWith('/batches/batch_live')) return state === 'running' ? running : completed;
      if (path.startsWith('/openbatch/batches/batch_live/chunks'))
        return new Promise((r) =>
          setTimeout(
            () => r({ object: 'list', data: [chunkRow(0, true), chunkRow(1, state === 'done')] }),
            150,
          ),
        );
      return new Response('{}', { status: 404 });
    });
    vi.stubGlobal('fetch', live.fetch);
    sessionStorage.setItem('openbatch.apiKey', 'sk-test');
    localStorage.setItem('openbatch.autoRefresh', 'off');
    const user = userEvent.setup();
    render(<App config={testConfig} router={createAppRouter({ initialEntries: ['/batches/batch_live'] })} />);
    expect((await screen.findByTestId('batch-status')).textContent).toBe('In progress');
    expect(
      (await screen.findAllByTestId('chunk-row')).map((r) => r.textContent?.includes('pending')),
    ).toEqual([false, true]);
    state = 'done';
    await user.click(screen.getByRole('button', { name: 'Refresh now' }));
    await waitFor(() => expect(screen.getByTestId('batch-status').textContent).toBe('Completed'));
    // In the very render that shows the batch completed, no chunk is left pending.
    expect(screen.getAllByTestId('chunk-row').filter((r) => r.textContent?.includes('pending'))).toEqual([]);
    expect(screen.getByTestId('count-failed').textContent).toBe('1');
    expect(screen.getByTestId('pool-spot').textContent).toBe('Spot 20 (100%)1 failed');
  });

  it("reads the request list again when the batch's counts move, not on a clock of its own", async () => {
    let done = 1;
    const running = () =>
      batch(
        { id: 'batch_rq', status: 'in_progress', in_progress_at: s - 30, created_at: s - 40 },
        { total: 3, completed: done, failed: 0 },
      );
    const row = (line: number) => ({
      object: 'batch.request',
      id: `line_${line}`,
      custom_id: `r-${line}`,
      line,
      status: line <= done ? 'succeeded' : 'running',
      pool: 'spot',
      attempts: 1,
      http_status: line <= done ? 200 : null,
      error_code: null,
      reused: false,
    });
    const api = fakeFetch((_m, path) => {
      if (path.startsWith('/batches/batch_rq')) return running();
      if (path.startsWith('/openbatch/batches/batch_rq/chunks')) return { object: 'list', data: [] };
      if (path.startsWith('/openbatch/batches/batch_rq/requests'))
        return {
          object: 'list',
          data: [1, 2, 3].map(row),
          first_id: 'line_1',
          last_id: 'line_3',
          has_more: false,
        };
      return new Response('{}', { status: 404 });
    });
    const reads = (prefix: string) => api.calls.filter((c) => c.path.startsWith(prefix)).length;
    vi.stubGlobal('fetch', api.fetch);
    sessionStorage.setItem('openbatch.apiKey', 'sk-test');
    render(<App config={testConfig} router={createAppRouter({ initialEntries: ['/batches/batch_rq'] })} />);
    await screen.findByRole('button', { name: /^Succeeded 1/ });
    expect(reads('/openbatch/batches/batch_rq/requests')).toBe(1);
    // The batch is read again (auto-refresh, 2 s) with the same counts: the list is not.
    await waitFor(() => expect(reads('/batches/batch_rq')).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    expect(reads('/openbatch/batches/batch_rq/requests')).toBe(1);
    // The counts move: the list is read again and agrees with them.
    done = 2;
    await screen.findByRole('button', { name: /^Succeeded 2/ }, { timeout: 5_000 });
    await waitFor(() => expect(screen.getByTestId('count-completed').textContent).toBe('2'));
    expect(reads('/openbatch/batches/batch_rq/requests')).toBe(2);
  });

  it('shows chunks that will never run as "not run" once a batch is cancelled', async () => {
    const cancelled = batch(
      {
        id: 'batch_stop',
        status: 'cancelled',
        in_progress_at: s - 30,
        cancelled_at: s - 25,
        created_at: s - 40,
      },
      { total: 20, completed: 0, failed: 0 },
    );
    vi.stubGlobal(
      'fetch',
      fakeFetch((_m, path) => {
        if (path.startsWith('/batches/batch_stop')) return cancelled;
        if (path.startsWith('/openbatch/batches/batch_stop/chunks'))
          return {
            object: 'list',
            data: [0, 1].map((n) => ({
              object: 'batch.chunk',
              chunk: n,
              status: 'pending',
              requests: 10,
              completed: 0,
              failed: 0,
              pool: null,
              escalated: false,
              interruptions: 0,
              line_start: n * 10 + 1,
              line_end: n * 10 + 10,
            })),
          };
        return new Response('{}', { status: 404 });
      }).fetch,
    );
    sessionStorage.setItem('openbatch.apiKey', 'sk-test');
    render(<App config={testConfig} router={createAppRouter({ initialEntries: ['/batches/batch_stop'] })} />);
    const rows = await screen.findAllByTestId('chunk-row');
    expect(rows.map((r) => within(r).getAllByRole('cell')[2]?.textContent)).toEqual(['not run', 'not run']);
    expect(screen.getByText('Cancelled before any request ran.')).toBeTruthy();
    expect(screen.queryByTestId('success-rate')).toBeNull();
    expect(screen.queryByText(/Processed/)).toBeNull();
  });

  it('lists requests from the per-request API, opens one, and retries the failed in a new batch it opens', async () => {
    const source = batch(
      {
        id: 'batch_src',
        status: 'completed',
        in_progress_at: s - 30,
        completed_at: s - 10,
        created_at: s - 40,
      },
      { total: 3, completed: 1, failed: 2 },
    );
    const retryBatch = batch(
      { id: 'batch_retry', status: 'validating', created_at: s },
      { total: 2, completed: 0, failed: 0 },
    );
    retryBatch.openbatch = { ...retryBatch.openbatch, retry_of: 'batch_src' } as typeof retryBatch.openbatch;
    const row = (line: number, status: 'succeeded' | 'failed') => ({
      object: 'batch.request',
      id: `line_${line}`,
      custom_id: `q-${line}`,
      line,
      status,
      pool: 'spot',
      attempts: status === 'failed' ? 2 : 1,
      http_status: status === 'failed' ? 500 : 200,
      error_code: status === 'failed' ? 'engine_error' : null,
    });
    const api = fakeFetch((method, path, body) => {
      if (method === 'POST' && path === '/openbatch/batches/batch_src/retry') {
        expect(body).toEqual({ custom_ids: ['q-3'] });
        return retryBatch;
      }
      if (path.startsWith('/batches/batch_src')) return source;
      if (path.startsWith('/batches/batch_retry')) return retryBatch;
      if (path.startsWith('/openbatch/batches/batch_src/chunks')) return { object: 'list', data: [] };
      if (path.startsWith('/openbatch/batches/batch_retry/chunks')) return { object: 'list', data: [] };
      if (path === '/openbatch/batches/batch_src/requests?limit=100')
        return {
          object: 'list',
          data: [row(1, 'succeeded'), row(2, 'failed')],
          first_id: 'line_1',
          last_id: 'line_2',
          has_more: true,
        };
      if (path === '/openbatch/batches/batch_src/requests?after=line_2&limit=100')
        return {
          object: 'list',
          data: [row(3, 'failed')],
          first_id: 'line_3',
          last_id: 'line_3',
          has_more: false,
        };
      if (path === '/openbatch/batches/batch_src/requests/q-2')
        return {
          ...row(2, 'failed'),
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: 'sim-small', messages: [{ role: 'user', content: 'line two' }] },
          result: {
            id: 'r2',
            custom_id: 'q-2',
            response: { status_code: 500, request_id: 'x', body: {} },
            error: null,
          },
        };
      return new Response('{}', { status: 404 });
    });
    vi.stubGlobal('fetch', api.fetch);
    sessionStorage.setItem('openbatch.apiKey', 'sk-test');
    const user = userEvent.setup();
    render(<App config={testConfig} router={createAppRouter({ initialEntries: ['/batches/batch_src'] })} />);
    await screen.findAllByTestId('request-row');
    expect(screen.getAllByTestId('request-row')).toHaveLength(2);
    await user.click(screen.getByRole('button', { name: 'Load more requests' }));
    await waitFor(() => expect(screen.getAllByTestId('request-row')).toHaveLength(3));
    expect(screen.getByRole('button', { name: 'Failed 2' })).toBeTruthy();
    // The file-based view is not used where the API lists requests.
    expect(api.calls.some((c) => c.path.includes('/content'))).toBe(false);

    await user.click(screen.getByRole('button', { name: 'Open q-2' }));
    const drawer = await screen.findByRole('dialog', { hidden: true, name: 'q-2' });
    await waitFor(() => expect(drawer.textContent).toContain('"line two"'));
    await user.click(within(drawer).getByRole('button', { name: 'Close request', hidden: true }));

    await user.click(screen.getByRole('checkbox', { name: 'Choose q-3 for retry' }));
    await user.click(screen.getByRole('button', { name: 'Retry 1 chosen' }));
    await user.click(screen.getByRole('button', { name: 'Create retry batch', hidden: true }));
    await waitFor(() => expect(screen.getByTestId('batch-id').textContent).toBe('batch_retry'));
    expect(screen.getByRole('link', { name: 'batch_src' })).toBeTruthy(); // "Retry of"
    expect(api.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([
      '/openbatch/batches/batch_src/retry',
    ]);
  });

  it('asks for a new key when the API answers 401', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch(
        () =>
          new Response(
            JSON.stringify({
              error: {
                message: 'Incorrect API key provided.',
                type: 'invalid_request_error',
                param: null,
                code: 'invalid_api_key',
              },
            }),
            { status: 401 },
          ),
      ).fetch,
    );
    sessionStorage.setItem('openbatch.apiKey', 'sk-revoked');
    render(<App config={testConfig} router={createAppRouter({ initialEntries: ['/batches'] })} />);
    expect(await screen.findByText(/no longer accepts your key/)).toBeTruthy();
    expect(sessionStorage.getItem('openbatch.apiKey')).toBeNull();
  });
});
