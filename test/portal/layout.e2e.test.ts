import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFlush } from '../../core/observability/metrics.js';
import { MetricsRegistry } from '../../core/observability/prometheus.js';
import type { BatchObject, ChunkView } from '../../core/openai/schemas.js';
import { portalHandler } from '../../localstack/runtime/static-portal.js';
import { ensurePortalBuilt } from '../../portal/scripts/ensure-built.js';
import { a11yViolations } from './support/a11y.js';
import { type Browser, launchBrowser } from './support/browser.js';
import { batch, extension } from './support/fixtures.js';
import { checkBothWidths, DESKTOP, expectNoSidewaysScroll, PHONE, screenshot } from './support/layout.js';

/**
 * Every page of the built portal, in Chromium, at desktop (1440 px) and phone (390 px) widths:
 * nothing scrolls sideways, every page has its own title, failures read in words, the colour
 * scheme toggle works, and the files come compressed. The portal is served by the local
 * runtime's own portal server; the API answers from fixed batches (batches in every state, with
 * the long ids openbatch issues), so each page is shown in a known state. Each page leaves a
 * screenshot in test/portal/screenshots/ (layout-*).
 */
const NOW = Math.floor(Date.now() / 1000);
const id = (tag: string) => `batch_01jdx${tag.padEnd(21, '0')}`;
const DONE = id('done');
const RUNNING = id('running');
const CANCELLED = id('cancelled');
const FAILED = id('failed');
const EXPIRED = id('expired');

function chunks(total: number, size: number, done: (n: number) => Partial<ChunkView> | null): ChunkView[] {
  return Array.from({ length: Math.ceil(total / size) }, (_, n) => {
    const d = done(n);
    return {
      object: 'batch.chunk',
      chunk: n,
      status: d ? 'done' : 'pending',
      requests: size,
      completed: 0,
      failed: 0,
      pool: null,
      escalated: false,
      interruptions: 0,
      line_start: n * size + 1,
      line_end: n * size + size,
      ...d,
    } as ChunkView;
  });
}

const tokens = (input: number, cached: number, output: number, reasoning: number): BatchObject['usage'] => ({
  input_tokens: input,
  input_tokens_details: { cached_tokens: cached },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: reasoning },
  total_tokens: input + output,
});

const batches: { batch: BatchObject; chunks: ChunkView[] }[] = [
  {
    batch: batch(
      {
        id: RUNNING,
        status: 'in_progress',
        created_at: NOW - 120,
        in_progress_at: NOW - 100,
        metadata: { project: 'nightly-eval', owner: 'search-team' },
        usage: tokens(9_100, 1_200, 3_300, 0),
        openbatch: extension({
          priority: 'normal',
          sla: { deadline_at: NOW + 86_000, state: 'on_track' },
          pools: { spot: 40, dedicated: 0 },
          chunks: { total: 10, done: 4, escalated: 0, interruptions: 1 },
        }),
      },
      { total: 100, completed: 38, failed: 2 },
    ),
    chunks: chunks(100, 10, (n) =>
      n < 4
        ? {
            pool: 'spot',
            completed: n === 2 ? 8 : 10,
            failed: n === 2 ? 2 : 0,
            interruptions: n === 1 ? 1 : 0,
          }
        : null,
    ),
  },
  {
    batch: batch(
      {
        id: DONE,
        status: 'completed',
        created_at: NOW - 3_600,
        in_progress_at: NOW - 3_590,
        finalizing_at: NOW - 3_530,
        completed_at: NOW - 3_525,
        output_file_id: 'file-out',
        error_file_id: 'file-err',
        metadata: { project: 'greetings' },
        usage: tokens(1_480, 0, 2_220, 120),
        openbatch: extension({
          priority: 'normal',
          sla: { deadline_at: NOW + 80_000, state: 'met' },
          pools: { spot: 30, dedicated: 10 },
          chunks: { total: 4, done: 4, escalated: 1, interruptions: 2 },
        }),
      },
      { total: 40, completed: 37, failed: 3 },
    ),
    chunks: chunks(40, 10, (n) =>
      n === 3
        ? { pool: 'dedicated', completed: 9, failed: 1, escalated: true, interruptions: 2 }
        : { pool: 'spot', completed: n === 0 ? 9 : n === 1 ? 9 : 10, failed: n < 2 ? 1 : 0 },
    ),
  },
  {
    batch: batch(
      {
        id: CANCELLED,
        status: 'cancelled',
        created_at: NOW - 7_200,
        in_progress_at: NOW - 7_195,
        cancelling_at: NOW - 7_190,
        cancelled_at: NOW - 7_189,
        metadata: { purpose: 'cancel-me' },
        openbatch: extension({
          priority: 'high',
          sla: { deadline_at: NOW + 79_000, state: null },
          pools: { spot: 0, dedicated: 0 },
          chunks: { total: 3, done: 0, escalated: 0, interruptions: 0 },
        }),
      },
      { total: 3_000, completed: 0, failed: 0 },
    ),
    chunks: chunks(3_000, 1_000, () => null),
  },
  {
    batch: batch(
      {
        id: FAILED,
        status: 'failed',
        created_at: NOW - 9_000,
        failed_at: NOW - 8_999,
        errors: {
          object: 'list',
          data: [
            {
              code: 'invalid_json_line',
              message: 'This line is not parseable as valid JSON.',
              param: null,
              line: 2,
            },
          ],
        },
      },
      { total: 0, completed: 0, failed: 0 },
    ),
    chunks: [],
  },
  {
    batch: batch(
      {
        id: EXPIRED,
        status: 'expired',
        created_at: NOW - 90_000,
        in_progress_at: NOW - 89_990,
        expired_at: NOW - 3_600,
        openbatch: extension({
          priority: 'normal',
          sla: { deadline_at: NOW - 3_600, state: 'breached' },
          pools: { spot: 12, dedicated: 8 },
          chunks: { total: 5, done: 2, escalated: 1, interruptions: 3 },
        }),
      },
      { total: 50, completed: 15, failed: 5 },
    ),
    chunks: chunks(50, 10, (n) =>
      n === 0
        ? { pool: 'spot', completed: 7, failed: 3, interruptions: 2 }
        : n === 1
          ? { pool: 'dedicated', completed: 8, failed: 2, escalated: true, interruptions: 1 }
          : null,
    ),
  },
];

const resultLine = (n: number, ok: boolean) =>
  JSON.stringify({
    id: `batch_req_${n}`,
    custom_id: `hello-${n}`,
    response: ok
      ? {
          status_code: 200,
          request_id: `req_${n}`,
          body: {
            object: 'chat.completion',
            choices: [{ message: { role: 'assistant', content: 'Hello!' } }],
          },
        }
      : {
          status_code: 500,
          request_id: `req_${n}`,
          body: { error: { message: 'engine failure', type: 'server_error' } },
        },
    error: null,
  });
const files: Record<string, string> = {
  'file-out': `${Array.from({ length: 37 }, (_, i) => resultLine(i + 1, true)).join('\n')}\n`,
  'file-err': `${[38, 39, 40].map((n) => resultLine(n, false)).join('\n')}\n`,
};

const doneRequests = Array.from({ length: 40 }, (_, i) => {
  const line = i + 1;
  const failed = line > 37;
  return {
    object: 'batch.request' as const,
    id: `line_${line}`,
    custom_id: `hello-${line}`,
    line,
    status: failed ? ('failed' as const) : ('succeeded' as const),
    pool: line > 30 ? ('dedicated' as const) : ('spot' as const),
    attempts: failed ? 2 : 1,
    http_status: failed ? 500 : 200,
    error_code: failed ? 'server_error' : null,
  };
});

/** The API, answered from the fixtures above. */
async function answer(route: Route) {
  const url = new URL(route.request().url());
  const path = url.pathname.replace(/^\/v1/, '');
  const json = (body: unknown, status = 200) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  if (path === '/batches')
    return json({
      object: 'list',
      data: batches.map((b) => b.batch),
      first_id: batches[0]?.batch.id ?? null,
      last_id: batches.at(-1)?.batch.id ?? null,
      has_more: false,
    });
  const one = /^\/batches\/([^/]+)$/.exec(path);
  const chunkList = /^\/openbatch\/batches\/([^/]+)\/chunks$/.exec(path);
  const found = batches.find((b) => b.batch.id === (one?.[1] ?? chunkList?.[1]));
  if (one && found) return json(found.batch);
  if (chunkList && found)
    return json({ object: 'list', data: found.chunks, first_id: null, last_id: null, has_more: false });
  // The per-request API, for the completed batch (the others answer 404: the page then reads
  // the result files, as against an API without it).
  if (path === `/openbatch/batches/${DONE}/requests`)
    return json({
      object: 'list',
      data: doneRequests,
      first_id: doneRequests[0]?.id,
      last_id: doneRequests.at(-1)?.id,
      has_more: false,
    });
  const requestPath = /^\/openbatch\/batches\/[^/]+\/requests\/([^/]+)$/.exec(path);
  const request = doneRequests.find((r) => r.custom_id === decodeURIComponent(requestPath?.[1] ?? ''));
  if (path.startsWith(`/openbatch/batches/${DONE}/requests/`) && request)
    return json({
      ...request,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'sim-small', messages: [{ role: 'user', content: `Say hello #${request.line}` }] },
      result: JSON.parse(resultLine(request.line, request.status === 'succeeded')),
    });
  // The running batch's output so far: chunks 0-1 in the first answer, 2-3 after from_chunk=2.
  if (path === `/openbatch/batches/${RUNNING}/partial_output`) {
    const from = Number(url.searchParams.get('from_chunk') ?? 0);
    const lines = (first: number) =>
      Array.from({ length: 20 }, (_, i) => resultLine(first + i, true)).join('\n');
    return route.fulfill({
      status: 200,
      contentType: 'application/octet-stream',
      headers: {
        'openbatch-partial': 'true',
        'openbatch-chunks-done': '4/10',
        ...(from === 0 ? { 'openbatch-next-chunk': '2' } : {}),
      },
      body: `${from === 0 ? lines(1) : lines(21)}\n`,
    });
  }
  const content = /^\/files\/([^/]+)\/content$/.exec(path);
  if (content && files[content[1] ?? ''] !== undefined)
    return route.fulfill({ status: 200, contentType: 'application/jsonl', body: files[content[1] ?? ''] });
  const file = /^\/files\/([^/]+)$/.exec(path);
  if (file) {
    const f = file[1] ?? '';
    return json({
      id: f,
      object: 'file',
      bytes: files[f]?.length ?? 4_200,
      created_at: NOW - 3_600,
      expires_at: null,
      filename: f === 'file-out' || f === 'file-err' ? `${f}.jsonl` : 'hello.jsonl',
      purpose: f.startsWith('file-in') ? 'batch' : 'batch_output',
      status: 'processed',
      status_details: null,
    });
  }
  return json(
    { error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } },
    404,
  );
}

/**
 * The local runtime's `/metrics`, from its own registry: workers on both pools, an SLA sweep,
 * API traffic. Each read adds 50 requests run on spot, as a running batch would.
 */
const metrics = new MetricsRegistry();
const worker = (pool: string, ran: number, latenciesMs: number[]) =>
  toFlush(
    { Pool: pool },
    {
      RequestsRun: ran,
      RequestsFailed: pool === 'spot' ? 1 : 0,
      TokensGenerated: ran * 30,
      EngineLatency: { value: latenciesMs, unit: 'Milliseconds' },
      EngineRequestsWaiting: { value: 4, gauge: true },
      EngineRequestsRunning: { value: 16, gauge: true },
    },
  );
for (const f of [
  worker('spot', 400, [180, 220, 260, 900]),
  worker('dedicated', 100, [150, 170]),
  toFlush(
    { Function: 'sla-monitor', SlaState: 'on_track' },
    { BatchesBySlaState: { value: 1, gauge: true } },
  ),
  toFlush({ Function: 'sla-monitor', SlaState: 'at_risk' }, { BatchesBySlaState: { value: 1, gauge: true } }),
  toFlush({ Function: 'sla-monitor', Pool: 'spot' }, { DesiredTasks: { value: 3, gauge: true } }),
  toFlush({ Function: 'sla-monitor', Pool: 'dedicated' }, { DesiredTasks: { value: 1, gauge: true } }),
  toFlush({ Function: 'sla-monitor', Status: 'in_progress' }, { ActiveBatches: { value: 2, gauge: true } }),
  toFlush({ Function: 'api', Route: 'GET /v1/batches', Status: '200' }, { ApiRequests: 40 }),
])
  metrics.add(f);

let server: Server;
let base: string;
let browser: Browser;
let page: Page;
const consoleProblems: string[] = [];
/** Each asset fetched: its content-encoding and the bytes sent. */
const encodings = new Map<string, { encoding: string | undefined; bytes: number }>();

const expectNoSideways = (name: string) => expectNoSidewaysScroll(page, name);

/** Opens a page from the sidebar (through the menu on a phone), as a user gets there. */
async function viaSidebar(label: string) {
  await page.goto(base);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  if ((page.viewportSize()?.width ?? 0) < 1024) await page.getByRole('button', { name: 'Open menu' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
}
const shot = (name: string) => screenshot(page, `layout-${name}`);

/** Each page: where it is, and what shows that it has loaded. */
const pages: {
  name: string;
  path: string;
  ready: (p: Page) => Promise<unknown>;
  title: string;
  /** Reached from the sidebar: the local portal server (core/app/portal-routes.ts) does not serve the path itself yet. */
  nav?: string;
}[] = [
  {
    name: 'dashboard',
    path: '/',
    ready: (p) => p.getByRole('heading', { name: 'Recent batches' }).waitFor(),
    title: 'Dashboard · openbatch',
  },
  {
    name: 'batches',
    path: '/batches',
    ready: (p) => p.getByTestId('batch-row').first().waitFor(),
    title: 'Batches · openbatch',
  },
  {
    name: 'new-batch',
    path: '/batches/new',
    ready: (p) => p.getByRole('heading', { name: 'New batch' }).waitFor(),
    title: 'New batch · openbatch',
  },
  {
    name: 'clone',
    path: `/batches/new?from=${DONE}`,
    ready: (p) => p.getByText(`Reusing the input file of ${DONE}`).waitFor(),
    title: `Clone ${DONE} · openbatch`,
  },
  {
    name: 'batch-completed',
    path: `/batches/${DONE}`,
    ready: async (p) => {
      await p.getByTestId('chunk-row').first().waitFor();
      await p.getByRole('button', { name: /^Failed 3/ }).waitFor();
    },
    title: `${DONE} · Completed · openbatch`,
  },
  {
    name: 'batch-running',
    path: `/batches/${RUNNING}`,
    ready: (p) => p.getByTestId('chunk-row').first().waitFor(),
    title: `${RUNNING} · In progress · openbatch`,
  },
  {
    name: 'batch-cancelled',
    path: `/batches/${CANCELLED}`,
    ready: (p) => p.getByTestId('chunk-row').first().waitFor(),
    title: `${CANCELLED} · Cancelled · openbatch`,
  },
  {
    name: 'batch-failed',
    path: `/batches/${FAILED}`,
    ready: (p) => p.getByTestId('batch-error').first().waitFor(),
    title: `${FAILED} · Failed · openbatch`,
  },
  {
    name: 'batch-expired',
    path: `/batches/${EXPIRED}`,
    ready: (p) => p.getByTestId('chunk-row').first().waitFor(),
    title: `${EXPIRED} · Expired · openbatch`,
  },
  {
    name: 'operator',
    path: '/operator',
    nav: 'Operations',
    ready: (p) => p.getByTestId('op-pool-spot').waitFor(),
    title: 'Operations · openbatch',
  },
  {
    name: 'batch-missing',
    path: '/batches/batch_nosuchbatch',
    ready: (p) => p.getByText('No such batch').waitFor(),
    title: 'batch_nosuchbatch · Not found · openbatch',
  },
];

describe('portal layout at desktop and phone widths', () => {
  beforeAll(async () => {
    ensurePortalBuilt();
    const handle = portalHandler(resolve(import.meta.dirname, '../../portal/dist'), () => ({
      apiBaseUrl: `${base}/v1`,
      environment: 'layout-test',
    }));
    server = createServer(async (req, res) => {
      if (req.url === '/metrics') {
        metrics.add(worker('spot', 50, [200]));
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(metrics.render());
        return;
      }
      if (!(await handle(req, res))) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    await page.route('**/v1/**', answer);
    page.on('console', (m) => {
      if ((m.type() === 'warning' || m.type() === 'error') && !m.text().startsWith('Failed to load resource'))
        consoleProblems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/assets/'))
        encodings.set(u.pathname, {
          encoding: r.headers()['content-encoding'],
          bytes: Number(r.headers()['content-length'] ?? 0),
        });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('signs in without sideways scrolling, at both widths', async () => {
    for (const size of [DESKTOP, PHONE]) {
      const width = size.width;
      await page.setViewportSize(size);
      await page.goto(base);
      await page.getByRole('heading', { name: 'Connect to your batch API' }).waitFor();
      expect(await page.title()).toBe('Sign in · openbatch');
      await expectNoSideways(`sign-in at ${width}px`);
      await shot(`sign-in-${width}`);
    }
    await page.getByLabel('API key').fill('sk-layout');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  for (const size of [DESKTOP, PHONE]) {
    const width = size.width;
    it(`shows every page at ${width}px with nothing scrolling sideways, each with its own title`, async () => {
      await page.setViewportSize(size);
      const titles = new Set<string>();
      for (const p of pages) {
        if (p.nav) await viaSidebar(p.nav);
        else await page.goto(`${base}${p.path}`);
        await p.ready(page);
        await page.waitForTimeout(400); // charts and bars animate in
        expect(await page.title(), p.name).toBe(p.title);
        titles.add(await page.title());
        await expectNoSideways(`${p.name} at ${width}px`);
        await shot(`${p.name}-${width}`);
      }
      expect(titles.size).toBe(pages.length);
    });
  }

  it('opens the per-request view and a file preview on a phone without sideways scrolling', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/batches/${DONE}`);
    await page.getByRole('button', { name: /^Failed 3/ }).click();
    await page.getByTestId('request-row').filter({ hasText: 'hello-38' }).waitFor();
    await page.getByRole('button', { name: 'Open hello-38' }).click();
    await page.getByRole('dialog', { name: 'hello-38' }).getByText('"Say hello #38"').waitFor();
    await expectNoSideways('request drawer at 390px');
    await shot('request-drawer-390');
    await page.getByRole('button', { name: 'Close request' }).click();
    const output = page.getByTestId('file-output');
    await output.getByRole('button', { name: 'Preview' }).click();
    await output.getByTestId('file-preview').waitFor();
    await expectNoSideways('batch details with requests and preview at 390px');
    await shot('batch-completed-open-390');
  });

  it('tells the batch page figures apart: failures per pool, "not run" chunks, no success rate before results', async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(`${base}/batches/${DONE}`);
    await page.getByTestId('chunk-row').first().waitFor();
    const words = async (testId: string) =>
      (await page.getByTestId(testId).innerText()).replace(/\s+/g, ' ').trim();
    expect(await words('pool-spot')).toBe('Spot 30 (75%) 2 failed');
    expect(await words('pool-dedicated')).toBe('Dedicated 10 (25%) 1 failed');
    expect(await page.getByTestId('success-rate').innerText()).toBe(
      'Success rate 93% of 40 finished requests.',
    );
    await page.goto(`${base}/batches/${CANCELLED}`);
    await page.getByTestId('chunk-row').first().waitFor();
    expect(await page.getByTestId('chunk-row').filter({ hasText: 'not run' }).count()).toBe(3);
    expect(await page.getByTestId('chunk-row').filter({ hasText: 'pending' }).count()).toBe(0);
    await page.getByText('Cancelled before any request ran.').waitFor();
    expect(await page.getByTestId('success-rate').count()).toBe(0);
    expect(await page.getByText(/Processed/).count()).toBe(0);
  });

  it('says in words how many requests of a recent batch failed', async () => {
    await page.goto(base);
    await page.getByRole('heading', { name: 'Recent batches' }).waitFor();
    const failed = await page.getByTestId('recent-failed').allInnerTexts();
    expect(failed).toEqual(['2 failed', '3 failed', '5 failed']);
  });

  it('switches to dark and back with the toggle, remembers it, and stays readable', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(base);
    await page.getByRole('heading', { name: 'Recent batches' }).waitFor();
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    expect(await theme()).toBe('light'); // the browser prefers light: "system" follows it
    await page.getByRole('button', { name: /^Colour scheme: System/ }).click(); // → light
    await page.getByRole('button', { name: /^Colour scheme: Light/ }).click(); // → dark
    await expect.poll(theme).toBe('dark');
    const canvas = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await expect.poll(canvas).toBe('rgb(11, 16, 32)'); // index.css's dark --canvas
    await page.reload();
    await page.getByRole('heading', { name: 'Recent batches' }).waitFor();
    expect(await theme()).toBe('dark');
    await page.waitForTimeout(400);
    await expectNoSideways('dark dashboard at 390px');
    await shot('dashboard-dark-390');
    expect(await a11yViolations(page)).toEqual([]);
    await page.goto(`${base}/batches/${DONE}`);
    await page.getByTestId('chunk-row').first().waitFor();
    await shot('batch-completed-dark-390');
    expect(await a11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: /^Colour scheme: Dark/ }).click(); // → system
    expect(await theme()).toBe('light');
    expect(await page.evaluate(() => localStorage.getItem('openbatch.theme'))).toBeNull();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(theme).toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(theme).toBe('light');
  });

  it('shows tokens and the cost estimate on the batch page, in the list and on the dashboard', async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(`${base}/batches/${RUNNING}`);
    await page.getByTestId('usage').waitFor();
    expect(await page.getByTestId('usage').innerText()).toMatch(
      /Input tokens\s+9,100\s+1,200 cached\s+Output tokens\s+3,300\s+0 reasoning\s+Total tokens\s+12,400/,
    );
    // The server's estimate for 40 requests on spot, named an estimate, against all-dedicated.
    const cost = page.getByTestId('cost-estimate');
    expect(await cost.getByText('estimate', { exact: true }).count()).toBe(1);
    expect(await cost.innerText()).toContain('$0.00067');
    expect(await page.getByTestId('cost-saving').innerText()).toBe(
      'All on dedicated, an estimated $0.0018: spot saved an estimated $0.0011 (63%).',
    );
    await page.goto(`${base}/batches`);
    await page.getByTestId('batch-row').first().waitFor();
    const running = page.getByTestId('batch-row').filter({ hasText: RUNNING }).getByTestId('batch-usage');
    expect((await running.innerText()).replace(/\s+/g, ' ')).toBe('12.4K tokens $0.00067 est.');
    await page.goto(base);
    const totals = page.getByTestId('usage-cost-totals');
    await totals.waitFor();
    expect(await totals.getByTestId('usage').innerText()).toMatch(/Total tokens\s+16,100/);
    expect(await totals.getByTestId('cost-saving').innerText()).toBe(
      'All on dedicated, an estimated $0.0045: spot saved an estimated $0.0023 (51%).',
    );
    await page.getByTestId('usage-cost-totals').scrollIntoViewIfNeeded();
    await checkBothWidths(page, 'layout-dashboard-usage-cost');
  });

  it("downloads a running batch's output so far, continued across answers and named as partial", async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/batches/${RUNNING}`);
    const button = page.getByRole('button', { name: 'Download output so far' });
    await button.waitFor();
    await expectNoSideways('running batch with its partial-output button at 390px');
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    expect(download.suggestedFilename()).toBe(`${RUNNING}_output_partial.jsonl`);
    const body = readFileSync((await download.path()) as string, 'utf8');
    const ids = body
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id);
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => `hello-${i + 1}`));
    await page.getByText(`Downloaded ${RUNNING}_output_partial.jsonl`).waitFor();
    await page.getByText('Partial: 4 of 10 chunks done').waitFor();
    // Only a running batch offers it.
    await page.goto(`${base}/batches/${DONE}`);
    await page.getByTestId('chunk-row').first().waitFor();
    expect(await page.getByRole('button', { name: 'Download output so far' }).count()).toBe(0);
  });

  it("follows a running batch's counts as they move within a chunk, on its page and in the list", async () => {
    await page.setViewportSize(DESKTOP);
    const running = batches[0]?.batch as BatchObject;
    const before = running.request_counts;
    try {
      await page.goto(`${base}/batches/${RUNNING}`);
      await page.getByTestId('chunk-row').first().waitFor();
      expect(await page.getByTestId('count-completed').innerText()).toBe('38');
      running.request_counts = { total: 100, completed: 45, failed: 3 };
      await expect.poll(() => page.getByTestId('count-completed').innerText(), { timeout: 8_000 }).toBe('45');
      expect(await page.getByTestId('count-failed').innerText()).toBe('3');
      await page.goto(`${base}/batches`);
      const row = page.getByTestId('batch-row').filter({ hasText: RUNNING });
      await row.waitFor();
      expect(await row.innerText()).toContain('48 / 100');
      running.request_counts = { total: 100, completed: 51, failed: 3 };
      await expect.poll(() => row.innerText(), { timeout: 8_000 }).toContain('54 / 100');
    } finally {
      running.request_counts = before;
    }
  });

  it("reads the runtime's /metrics on the operations page, and says where to look where there is none", async () => {
    await page.setViewportSize(DESKTOP);
    await viaSidebar('Operations');
    await page.getByTestId('op-pool-spot').waitFor();
    const spot = async () => (await page.getByTestId('op-pool-spot').innerText()).replace(/\s+/g, ' ');
    // Totals and latency from the registry: 400 requests, then 50 more at each read.
    expect(await spot()).toMatch(/^spot [\d,]+ \d+ — — \d+ ms 900 ms —$/);
    expect(await page.getByTestId('op-pool-dedicated').innerText()).toMatch(/150 ms/);
    expect(await page.getByTestId('op-at-risk').innerText()).toBe('1');
    expect((await page.getByTestId('op-desired').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '))).toEqual(
      ['spot 3', 'dedicated 1'],
    );
    expect((await page.getByTestId('op-engine-queue').first().innerText()).replace(/\s+/g, ' ')).toBe(
      'spot 4 waiting · 16 running',
    );
    await page.getByTestId('op-no-queue-depth').waitFor();
    // The next reading (5 s on) gives rates: 50 requests on spot between two reads.
    await expect
      .poll(() => page.getByTestId('op-requests-rate').innerText(), { timeout: 12_000 })
      .toMatch(/^\d+(\.\d)? req\/s$/);
    const rate = Number.parseFloat(await page.getByTestId('op-requests-rate').innerText());
    expect(rate).toBeGreaterThan(7);
    expect(rate).toBeLessThan(13);
    expect(await spot()).toMatch(/ 200 ms$/); // the mean of the latencies observed since the last read
    await checkBothWidths(page, 'layout-operator-live');
    // An AWS deployment: API Gateway answers /metrics with a 403 of its own.
    await page.route(`${base}/metrics`, (r) =>
      r.fulfill({
        status: 403,
        contentType: 'application/json',
        body: '{"message":"Missing Authentication Token"}',
      }),
    );
    try {
      await viaSidebar('Operations');
      const none = page.getByTestId('no-metrics');
      await none.waitFor();
      expect(await none.innerText()).toContain('answered HTTP 403');
      expect(await none.innerText()).toContain('docs/observability.md');
      await checkBothWidths(page, 'layout-operator-no-metrics');
    } finally {
      await page.unroute(`${base}/metrics`);
    }
  });

  it('got its scripts and styles compressed, and logged no warnings', () => {
    const assets = [...encodings.entries()].filter(([p]) => /\.(js|css)$/.test(p));
    expect(assets.length).toBeGreaterThan(3);
    // Files under 1,000 bytes go as they are, as CloudFront sends them; every other one is Brotli.
    expect(assets.filter(([, a]) => a.encoding !== 'br' && a.bytes >= 1_000)).toEqual([]);
    expect(assets.filter(([p, a]) => /\/index-.*\.js$/.test(p) && a.encoding === 'br')).toHaveLength(1);
    expect(consoleProblems).toEqual([]);
  });
});
