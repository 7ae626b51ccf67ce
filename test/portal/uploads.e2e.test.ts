import type { CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { ensurePortalBuilt } from '../../portal/scripts/ensure-built.js';
import { a11yViolations } from './support/a11y.js';
import { type Browser, launchBrowser } from './support/browser.js';
import { checkBothWidths } from './support/layout.js';

/**
 * A file above the direct-upload limit, from the portal in Debian's Chromium: it goes through
 * the Uploads API in pre-signed parts PUT straight to the local S3 (one part fails once and is
 * retried with a fresh URL), the progress reaches 100%, and the batch runs to completion.
 */
const API_KEY = 'sk-portal-uploads';
/** The API's direct-upload limit here, and what config.json tells the portal. */
const DIRECT_LIMIT = 256 * 1024;

/** About 6 MB in 600 lines of ~10 KB: two parts (5 MiB and the rest), a short batch. */
function bigJsonl(): string {
  const pad = 'x'.repeat(10_000);
  return Array.from({ length: 600 }, (_, i) =>
    JSON.stringify({
      custom_id: `big-${i + 1}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'sim-small', messages: [{ role: 'user', content: `#${i + 1} ${pad}` }], max_tokens: 8 },
    }),
  ).join('\n');
}

let rt: LocalRuntime;
let browser: Browser;
let page: Page;
let cdp: CDPSession | undefined;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${rt.url}/v1${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Caps the page's upload speed (bytes a second; -1 lifts the cap) so progress is seen moving. */
async function throttleUploads(bytesPerSecond: number) {
  // The emulation lasts as long as the session: one for the whole file.
  cdp ??= await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

/** The new-batch page, signed in (the key is kept for the tab once given). */
async function openNewBatch() {
  await page.goto(`${rt.url}/batches/new`);
  const keyField = page.getByLabel('API key');
  const heading = page.getByRole('heading', { name: 'New batch' });
  await keyField.or(heading).first().waitFor();
  if (await keyField.isVisible()) {
    await keyField.fill(API_KEY);
    await page.getByRole('button', { name: 'Connect' }).click();
  }
  await heading.waitFor();
}

async function pickBigFile(content: string) {
  await page.locator('input[type=file]').setInputFiles({
    name: 'big.jsonl',
    mimeType: 'application/jsonl',
    buffer: Buffer.from(content),
  });
  await page.getByTestId('validation-ok').waitFor();
}

/** The page now, at desktop and 390 px: nothing scrolls sideways; a screenshot of each. */
async function shot(name: string) {
  await checkBothWidths(page, name);
}

interface Seen {
  overall: number[];
  parts: Record<string, string[]>;
  statuses: string[];
}

describe('portal: uploads above the direct limit in pre-signed parts', () => {
  beforeAll(async () => {
    ensurePortalBuilt();
    rt = await startLocalRuntime({
      port: 0,
      apiKeys: { [API_KEY]: 'tenant-portal-uploads' },
      workers: { spot: 1, dedicated: 0 },
      env: { MAX_API_UPLOAD_BYTES: String(DIRECT_LIMIT) },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    // The runtime tells the portal the API's direct-upload limit, as a deployment's config.json does.
    const served = (await (await fetch(`${rt.url}/config.json`)).json()) as {
      directUploadLimitBytes: number;
    };
    expect(served.directUploadLimitBytes).toBe(DIRECT_LIMIT);
  });

  afterAll(async () => {
    await browser?.close();
    await rt?.close();
  });

  it('uploads a 6 MB file in two parts with progress, retries a failed part and runs the batch', async () => {
    await openNewBatch();
    await page.getByText('above 256 KiB, sent in 5.0 MiB parts straight to storage').waitFor();

    const content = bigJsonl();
    const size = Buffer.byteLength(content);
    await pickBigFile(content);
    expect(await page.getByTestId('upload-plan').innerText()).toMatch(
      /is above the API's direct-upload limit \(256 KiB\): the file goes through the Uploads API in 2 parts/,
    );
    expect(await a11yViolations(page)).toEqual([]);

    // Part 2's first PUT fails at storage; the portal asks for a fresh URL and sends it again.
    // (A URL signed again within the same second is byte-identical, so "fresh" is shown by a
    // second part_urls request naming part 2 before the second PUT, not by a different URL.)
    const putsOfPart2: string[] = [];
    const calls: string[] = [];
    page.on('request', (req) => {
      if (req.method() !== 'POST' || !req.url().endsWith('/part_urls')) return;
      const asked = (JSON.parse(req.postData() ?? '{}') as { part_numbers?: number[] }).part_numbers ?? [];
      if (asked.includes(2)) calls.push('part_urls(2)');
    });
    await page.route(
      (url) => url.searchParams.get('partNumber') === '2',
      async (route) => {
        putsOfPart2.push(route.request().url());
        calls.push('PUT(2)');
        if (putsOfPart2.length === 1) {
          await route.fulfill({ status: 500, headers: { 'access-control-allow-origin': '*' }, body: '' });
        } else {
          await route.continue();
        }
      },
    );
    // Slow uploads down so progress is seen moving (and a screenshot catches it under way).
    await throttleUploads(4 * 1024 * 1024);
    // Record what the progress bars and the live region say, every change, until the page moves on.
    await page.evaluate(() => {
      const seen: Seen = { overall: [], parts: {}, statuses: [] };
      (window as unknown as { seen: Seen }).seen = seen;
      const record = () => {
        const overall = document.querySelector('[role=progressbar][aria-label="Upload progress"]');
        const v = Number(overall?.getAttribute('aria-valuenow') ?? Number.NaN);
        if (!Number.isNaN(v) && seen.overall.at(-1) !== v) seen.overall.push(v);
        for (const li of document.querySelectorAll('[data-testid=upload-part]')) {
          const bar = li.querySelector('[role=progressbar]');
          const name = bar?.getAttribute('aria-label') ?? '?';
          const status = li.getAttribute('data-status') ?? '?';
          const list = seen.parts[name] ?? [];
          seen.parts[name] = list;
          if (list.at(-1) !== status) list.push(status);
        }
        const live = document.querySelector('[data-testid=upload-status]')?.textContent ?? '';
        if (live && seen.statuses.at(-1) !== live) seen.statuses.push(live);
      };
      new MutationObserver(record).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        characterData: true,
      });
    });

    await page.getByRole('button', { name: 'Upload and create' }).click();
    const overall = page.getByRole('progressbar', { name: 'Upload progress' });
    await expect
      .poll(async () => Number(await overall.getAttribute('aria-valuenow')), {
        interval: 50,
        timeout: 10_000,
      })
      .toBeGreaterThan(10);
    await page.getByRole('progressbar', { name: 'Part 2 of 2' }).waitFor();
    await shot('20-upload-in-parts');

    await page.waitForURL(/\/batches\/batch_/, { timeout: 30_000 });
    await throttleUploads(-1);
    const seen = await page.evaluate(() => (window as unknown as { seen: Seen }).seen);
    expect(seen.overall.at(-1)).toBe(100);
    expect(seen.overall.some((v) => v > 0 && v < 100)).toBe(true);
    expect(seen.parts['Part 1 of 2']?.at(-1)).toBe('done');
    expect(seen.parts['Part 2 of 2']).toEqual(expect.arrayContaining(['uploading', 'retrying', 'done']));
    expect(seen.statuses).toEqual(
      expect.arrayContaining([
        'Uploading 2 parts straight to storage…',
        'Uploading 2 parts straight to storage… Retrying part 2 with a fresh URL.',
        'All parts sent. Completing the upload…',
        'Creating the batch…',
      ]),
    );
    expect(putsOfPart2).toHaveLength(2);
    expect(calls.slice(-3)).toEqual(['PUT(2)', 'part_urls(2)', 'PUT(2)']);

    await page.getByText('Batch created').waitFor();
    const batchId = (await page.getByTestId('batch-id').innerText()).trim();
    await page.getByTestId('batch-status').filter({ hasText: 'Completed' }).waitFor({ timeout: 30_000 });
    expect(Number(await page.getByTestId('count-total').innerText())).toBe(600);
    expect(Number(await page.getByTestId('count-completed').innerText())).toBe(600);
    const batch = await api<{ input_file_id: string }>(`/batches/${batchId}`);
    const file = await api<{ bytes: number; filename: string }>(`/files/${batch.input_file_id}`);
    expect(file).toMatchObject({ bytes: size, filename: 'big.jsonl' });
    await shot('21-upload-in-parts-batch-completed');
  });

  it('cancels an upload in parts: the PUTs stop and the Upload is cancelled', async () => {
    await openNewBatch();
    await pickBigFile(bigJsonl());
    const batchesBefore = (await api<{ data: unknown[] }>('/batches')).data.length;
    let uploadId = '';
    page.on('response', async (res) => {
      if (res.request().method() === 'POST' && new URL(res.url()).pathname === '/v1/uploads')
        uploadId = ((await res.json()) as { id: string }).id;
    });
    await throttleUploads(256 * 1024);
    await page.getByRole('button', { name: 'Upload and create' }).click();
    const overall = page.getByRole('progressbar', { name: 'Upload progress' });
    await expect
      .poll(async () => Number(await overall.getAttribute('aria-valuenow')), { timeout: 10_000 })
      .toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Cancel upload' }).click();
    await page.getByTestId('upload-status').filter({ hasText: 'Upload cancelled.' }).waitFor();
    await throttleUploads(-1);
    // Part 1 (5 MiB) cannot have finished; the small part 2 may have on a slow machine.
    const [part1, part2] = await page
      .getByTestId('upload-part')
      .evaluateAll((li) => li.map((l) => l.getAttribute('data-status')));
    expect(part1).toBe('stopped');
    expect(['stopped', 'done']).toContain(part2);
    await shot('22-upload-in-parts-cancelled');
    expect(await a11yViolations(page)).toEqual([]); // the parts list, its bars and the status
    expect(uploadId).toMatch(/^upload_/);
    await expect
      .poll(async () => (await api<{ status: string }>(`/openbatch/uploads/${uploadId}`)).status)
      .toBe('cancelled');
    expect((await api<{ data: unknown[] }>('/batches')).data).toHaveLength(batchesBefore);
    expect(page.url()).toMatch(/\/batches\/new$/);
  });
});
