import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { ensurePortalBuilt } from '../../portal/scripts/ensure-built.js';
import { a11yViolations } from './support/a11y.js';
import { type Browser, launchBrowser } from './support/browser.js';
import { checkBothWidths, expectNoSidewaysScroll, screenshot } from './support/layout.js';

/**
 * The portal, built, in Debian's Chromium, against the local runtime (emulator, Lambdas and
 * simulated GPU workers): sign in, create a batch from a file, watch it complete, download its
 * output, cancel one, and see line-numbered validation errors. Each page leaves a screenshot.
 */
const API_KEY = 'sk-portal-e2e';
const MODEL = 'sim-small';

function jsonl(n: number, prefix: string, endpoint = '/v1/chat/completions'): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${prefix}-${i + 1}`,
      method: 'POST',
      url: endpoint,
      body: { model: MODEL, messages: [{ role: 'user', content: `Say hello #${i + 1}` }], max_tokens: 16 },
    }),
  ).join('\n');
}

let rt: LocalRuntime;
let browser: Browser;
let page: Page;

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${rt.url}/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_KEY}`, ...(init.headers as Record<string, string>) },
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function createBatchViaApi(content: string, metadata?: Record<string, string>) {
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([content], { type: 'application/jsonl' }), 'api.jsonl');
  const file = await api<{ id: string }>('/files', { method: 'POST', body: form });
  return api<{ id: string; status: string }>('/batches', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      ...(metadata ? { metadata } : {}),
    }),
  });
}

/**
 * The page as it is now, at desktop and at 390 px: nothing may scroll sideways at either width,
 * and each leaves a screenshot (`<name>.png`, `<name>-390.png`).
 */
async function shot(name: string) {
  await checkBothWidths(page, name);
}

async function pickFile(name: string, content: string) {
  await page.locator('input[type=file]').setInputFiles({
    name,
    mimeType: 'application/jsonl',
    buffer: Buffer.from(content),
  });
}

describe('portal in a real browser', () => {
  beforeAll(async () => {
    ensurePortalBuilt();
    // The operations page reads the runtime's /metrics: its processes emit metrics (vitest's
    // environment turns them off; the runtime passes OPENBATCH_METRICS through).
    process.env.OPENBATCH_METRICS = 'on';
    rt = await startLocalRuntime({
      port: 0,
      apiKeys: { [API_KEY]: 'tenant-portal' },
      workers: { spot: 1, dedicated: 1 },
      env: {
        SIM_ENGINE_LATENCY_MS: '40',
        // Some requests fail for good (no retries) and some spot chunks are interrupted and handed
        // to dedicated, so the pages show failures, an error file, escalations and both pools.
        SIM_ENGINE_FAILURE_RATE: '0.15',
        ENGINE_MAX_RETRIES: '0',
        SIM_SPOT_INTERRUPTION_RATE: '0.3',
        ENGINE_CONCURRENCY: '4',
        CHUNK_MAX_LINES: '10',
      },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await rt?.close();
    process.env.OPENBATCH_METRICS = 'off';
  });

  it('asks for an API key, refuses a wrong one and accepts the right one', async () => {
    await page.goto(rt.url);
    await expect
      .poll(() => page.getByRole('heading', { name: 'Connect to your batch API' }).isVisible())
      .toBe(true);
    await page.getByLabel('API key').fill('sk-wrong');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('alert').filter({ hasText: 'rejected this key (401)' }).waitFor();
    await shot('01-sign-in');
    expect(await a11yViolations(page)).toEqual([]);
    await page.getByLabel('API key').fill(API_KEY);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  it('greets an empty tenant with a call to action', async () => {
    await page.getByText('Welcome to openbatch').waitFor();
    await shot('02-dashboard-empty');
    await page.getByRole('link', { name: 'Create your first batch' }).click();
    await page.getByRole('heading', { name: 'New batch' }).waitFor();
  });

  it('checks a broken file in the browser and shows line-numbered errors', async () => {
    const lines = jsonl(4, 'bad').split('\n');
    lines[1] = '{"custom_id": "bad-2", "method": "POST", "url": "/v1/chat/completions", "body": {"model": ';
    lines[2] = JSON.stringify({
      custom_id: 'bad-1',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: MODEL },
    });
    lines[3] = JSON.stringify({
      custom_id: 'bad-4',
      method: 'POST',
      url: '/v1/embeddings',
      body: { model: MODEL },
    });
    await pickFile('broken.jsonl', lines.join('\n'));
    const errors = page.getByTestId('validation-error');
    await errors.first().waitFor();
    const text = await errors.allInnerTexts();
    expect(text).toHaveLength(3);
    expect(text[0]).toMatch(/Line 2\s+invalid_json_line/);
    expect(text[1]).toMatch(/Line 3\s+invalid_request.*custom_id 'bad-1' is used more than once/);
    expect(text[2]).toMatch(/Line 4\s+invalid_url.*does not match/);
    expect(await page.getByRole('button', { name: 'Upload and create' }).isDisabled()).toBe(true);
    await shot('03-new-batch-invalid-file');
    expect(await a11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
  });

  it('creates a batch from a file, watches it complete and downloads its output', async () => {
    const content = jsonl(40, 'hello');
    await pickFile('hello.jsonl', content);
    await page.getByTestId('validation-ok').waitFor();
    expect(await page.getByTestId('validation-ok').innerText()).toContain('40 requests look valid');
    await page.getByLabel('Metadata key 1').fill('project');
    await page.getByLabel('Metadata value 1').fill('greetings');
    await shot('04-new-batch');
    await page.getByRole('button', { name: 'Upload and create' }).click();

    await page.waitForURL(/\/batches\/batch_/);
    await page.getByText('Batch created').waitFor();
    expect(await a11yViolations(page)).toEqual([]); // toasts included
    const batchId = (await page.getByTestId('batch-id').innerText()).trim();
    await page.getByTestId('batch-status').filter({ hasText: 'Completed' }).waitFor({ timeout: 60_000 });
    const total = Number(await page.getByTestId('count-total').innerText());
    const ok = Number(await page.getByTestId('count-completed').innerText());
    const failed = Number(await page.getByTestId('count-failed').innerText());
    expect(total).toBe(40);
    expect(ok + failed).toBe(40);
    await page.getByTestId('timeline-completed').getByText(/\d{4}/).waitFor();

    // Tokens and the cost estimate, as the API reports them (the simulated engine reports usage).
    const reported = await api<{
      usage: { total_tokens: number; input_tokens: number };
      openbatch: { cost: { total: number; all_dedicated: number } };
    }>(`/batches/${batchId}`);
    expect(reported.usage.total_tokens).toBeGreaterThan(0);
    expect((await page.getByTestId('usage').innerText()).replace(/\s+/g, ' ')).toContain(
      `Total tokens ${reported.usage.total_tokens.toLocaleString('en-US')}`,
    );
    const cost = page.getByTestId('cost-estimate');
    expect(await cost.getByText('estimate', { exact: true }).count()).toBe(1);
    expect(reported.openbatch.cost.all_dedicated).toBeGreaterThan(0);
    expect(await page.getByTestId('cost-saving').innerText()).toMatch(/^All on dedicated, an estimated \$/);

    // Chunks and pools (the openbatch extension): 40 lines in chunks of 10.
    await expect.poll(() => page.getByTestId('chunk-row').count()).toBe(4);
    // The view ends on the final state: every chunk done, none left showing an earlier poll.
    await expect.poll(() => page.getByTestId('chunk-row').filter({ hasText: 'pending' }).count()).toBe(0);

    // Preview the output's first lines, then download it.
    const output = page.getByTestId('file-output');
    await output.getByRole('button', { name: 'Preview' }).click();
    await output.getByTestId('file-preview').waitFor();
    expect(await output.getByTestId('file-preview').innerText()).toContain('"custom_id"');
    await output.getByTestId('file-preview').locator('summary').first().click();

    // Per-request view from the result files.
    await page.getByRole('button', { name: /^Failed \d+/ }).click();
    await shot('05-batch-completed');
    expect(await a11yViolations(page)).toEqual([]);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      output.getByRole('button', { name: 'Download' }).click(),
    ]);
    const saved = await download.path();
    const lines = readFileSync(saved, 'utf8').trim().split('\n');
    const outputBatch = await api<{ output_file_id: string; request_counts: { completed: number } }>(
      `/batches/${batchId}`,
    );
    expect(lines).toHaveLength(outputBatch.request_counts.completed);
    expect(JSON.parse(lines[0] ?? '{}').custom_id).toMatch(/^hello-\d+$/);
    expect(download.suggestedFilename()).toMatch(/\.jsonl$/);
  });

  it('cancels a running batch from the list, after confirmation', async () => {
    const big = await createBatchViaApi(jsonl(3_000, 'slow'), { purpose: 'cancel-me' });
    await page.getByRole('link', { name: 'Batches' }).first().click();
    await page.getByRole('heading', { name: 'Batches', exact: true }).waitFor();
    const row = page.getByTestId('batch-row').filter({ hasText: big.id });
    await row.getByRole('button', { name: `Cancel ${big.id}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this batch?' });
    await dialog.waitFor();
    await shot('06-cancel-confirmation');
    await dialog.getByRole('button', { name: 'Cancel batch' }).click();
    await row
      .getByTestId('batch-status')
      .filter({ hasText: /Cancelling|Cancelled/ })
      .waitFor();
    await row.getByTestId('batch-status').filter({ hasText: 'Cancelled' }).waitFor({ timeout: 60_000 });
    const after = await api<{ status: string }>(`/batches/${big.id}`);
    expect(after.status).toBe('cancelled');
    // Its page: chunks that will never run read "not run", none "pending"; no success rate
    // unless something finished.
    await page.goto(`${rt.url}/batches/${big.id}`);
    await page.getByTestId('chunk-row').first().waitFor();
    expect(await page.getByTestId('chunk-row').filter({ hasText: 'pending' }).count()).toBe(0);
    expect(await page.getByTestId('chunk-row').filter({ hasText: 'not run' }).count()).toBeGreaterThan(0);
    expect(await page.title()).toBe(`${big.id} · Cancelled · openbatch`);
    await shot('06b-batch-cancelled');
  });

  it('shows the server-side validation errors of a failed batch with their line numbers', async () => {
    const lines = jsonl(3, 'srv').split('\n');
    lines[1] = '{not json';
    const failed = await createBatchViaApi(lines.join('\n'), { purpose: 'broken' });
    await expect
      .poll(async () => (await api<{ status: string }>(`/batches/${failed.id}`)).status, { timeout: 30_000 })
      .toBe('failed');
    await page.goto(`${rt.url}/batches/${failed.id}`);
    const error = page.getByTestId('batch-error').first();
    await error.waitFor();
    expect(await error.innerText()).toMatch(/Line 2\s+invalid_json_line/);
    await shot('07-batch-failed');
  });

  it('lists batches with counts per status, search and filters', async () => {
    await page.goto(`${rt.url}/batches`);
    await page.getByTestId('batch-row').first().waitFor();
    expect(await page.getByTestId('batch-row').count()).toBe(3);
    await page.getByRole('button', { name: /^Completed 1$/ }).waitFor();
    await page.getByRole('button', { name: /^Failed 1$/ }).waitFor();
    await shot('08-batches');
    expect(await a11yViolations(page)).toEqual([]);
    await page.getByLabel('Search batches by id, model, metadata or tag').fill('project:greetings');
    await expect.poll(() => page.getByTestId('batch-row').count()).toBe(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByRole('button', { name: /^Cancelled 1$/ }).click();
    await expect.poll(() => page.getByTestId('batch-row').count()).toBe(1);
    expect(page.url()).toContain('status=cancelled');
  });

  it('summarises everything on the dashboard, on wide and narrow screens', async () => {
    await page.goto(rt.url);
    await page.getByRole('heading', { name: 'Recent batches' }).waitFor();
    await page.getByTestId('usage-cost-totals').getByTestId('cost-estimate').waitFor();
    expect(Number(await page.getByTestId('sla-met').innerText())).toBe(1);
    await page.waitForTimeout(300); // charts animate in
    await shot('09-dashboard');
    expect(await a11yViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Open menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Batches' }).waitFor();
    await expectNoSidewaysScroll(page, 'dashboard with the menu open at 390px');
    await screenshot(page, '10-dashboard-mobile-menu');
    await page.getByRole('button', { name: 'Close menu' }).last().click();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await shot('11-dashboard-dark');
    expect(await a11yViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('clones a batch into the create form', async () => {
    const batches = await api<{ data: { id: string; metadata: Record<string, string> | null }[] }>(
      '/batches',
    );
    const done = batches.data.find((b) => b.metadata?.project === 'greetings');
    await page.goto(`${rt.url}/batches/${done?.id}`);
    await page.getByRole('link', { name: 'Clone' }).click();
    await page.getByRole('heading', { name: 'Clone batch' }).waitFor();
    expect(await page.getByLabel('Metadata value 1').inputValue()).toBe('greetings');
    await page.getByText(`Reusing the input file of ${done?.id}`).waitFor();
    await shot('12-clone');
  });

  it("lists a batch's requests, opens one, and retries the failed ones in a new batch it opens", async () => {
    const batches = await api<{ data: { id: string; metadata: Record<string, string> | null }[] }>(
      '/batches',
    );
    const source = batches.data.find((b) => b.metadata?.project === 'greetings');
    const counts = (await api<{ request_counts: { failed: number } }>(`/batches/${source?.id}`))
      .request_counts;
    await page.goto(`${rt.url}/batches/${source?.id}`);
    await page.getByTestId('request-row').first().waitFor();
    expect(await page.getByTestId('request-row').count()).toBe(40);
    await page.getByRole('button', { name: `Failed ${counts.failed}` }).click();
    await expect.poll(() => page.getByTestId('request-row').count()).toBe(counts.failed);
    const first = page.getByTestId('request-row').first();
    const customId = (await first.getByRole('cell').nth(2).innerText()).trim();
    await first.getByRole('button', { name: `Open ${customId}` }).click();
    const drawer = page.getByRole('dialog', { name: customId });
    await drawer.getByText('Input body · POST /v1/chat/completions').waitFor();
    await drawer
      .getByText(/"custom_id"/)
      .first()
      .waitFor(); // its error line
    await checkBothWidths(page, '13-request-drawer');
    expect(await a11yViolations(page)).toEqual([]);
    await drawer.getByRole('button', { name: 'Close request' }).click();

    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page
      .getByRole('dialog', { name: 'Retry in a new batch?' })
      .getByRole('button', { name: 'Create retry batch' })
      .click();
    await page.waitForURL(
      (url) => url.pathname.startsWith('/batches/batch_') && !url.pathname.endsWith(source?.id ?? ''),
    );
    await page.getByText('Retry batch created').waitFor();
    await page
      .getByRole('link', { name: source?.id ?? '' })
      .last()
      .waitFor(); // "Retry of"
    await page
      .getByTestId('batch-status')
      .filter({ hasText: /Completed|Failed/ })
      .waitFor({ timeout: 60_000 });
    expect(Number(await page.getByTestId('count-total').innerText())).toBe(counts.failed);
    await shot('14-retry-batch');
  });

  it("downloads a running batch's output so far, in input order and named as partial", async () => {
    const running = await createBatchViaApi(jsonl(3_000, 'part'), { purpose: 'partial-output' });
    try {
      await page.goto(`${rt.url}/batches/${running.id}`);
      const button = page.getByRole('button', { name: 'Download output so far' });
      await button.waitFor({ timeout: 30_000 });
      // Asked as soon as a chunk is done, so the batch is still running when it answers.
      await expect
        .poll(
          async () =>
            (await api<{ openbatch: { chunks: { done: number } } }>(`/batches/${running.id}`)).openbatch
              .chunks.done,
          { timeout: 30_000, interval: 200 },
        )
        .toBeGreaterThan(0);
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 60_000 }),
        button.click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${running.id}_output_partial.jsonl`);
      const lines = readFileSync(await download.path(), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(3_000);
      const ids = lines.map((l) =>
        Number((JSON.parse(l) as { custom_id: string }).custom_id.slice('part-'.length)),
      );
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      await page.getByText(/^Partial: \d+ of 300 chunks done/).waitFor();
      await shot('14-batch-partial-output');
    } finally {
      await fetch(`${rt.url}/v1/batches/${running.id}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
    }
  });

  it("shows the runtime's own /metrics on the operations page", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(rt.url);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click();
    await page.getByTestId('op-pool-spot').waitFor();
    expect(await page.getByTestId('no-metrics').count()).toBe(0);
    // The batches above ran: the workers' counters and engine latency are there, per pool.
    const cells = async (pool: string) =>
      (await page.getByTestId(`op-pool-${pool}`).locator('td').allInnerTexts()).map((t) => t.trim());
    const [spot, dedicated] = [await cells('spot'), await cells('dedicated')];
    const run = (c: string[]) => Number((c[0] ?? '').replace(/,/g, '')) || 0;
    expect(run(spot) + run(dedicated)).toBeGreaterThanOrEqual(40);
    expect([spot[4], dedicated[4]].some((p50) => /^\d+ ms$/.test(p50 ?? ''))).toBe(true);
    await page
      .getByRole('button', { name: 'Show every family' })
      .or(page.getByText('Show every family'))
      .click();
    await page.getByText('openbatch_api_requests_total').waitFor();
    await shot('15-operations');
  });
});
