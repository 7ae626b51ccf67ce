import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { countIds, resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines, waitFor } from '../support/test-aws.js';

/**
 * Issue 11 on the local runtime: a short completion window from the allowlist, admission at
 * create and at the end of validation, escalation to dedicated capacity by core/policy in the SLA
 * monitor (every second here), and expiry at the window with batch_expired lines.
 *
 * The policy assumes 20 requests/s per task (SLA_ASSUMED_REQUESTS_PER_SECOND); the simulated
 * engine does 4 (500 ms a request, 2 at a time, one 20-line chunk at a time per worker). A
 * 300-request batch with a 30 s window is admitted (15 s of work on the dedicated task: pressure
 * 0.5, under normal priority's 0.7, so it starts on Spot); as Spot falls behind, the pressure
 * passes 0.7 after about 12 s and the SLA monitor escalates it; even with both workers it cannot
 * finish, and it expires at 30 s.
 */
const KEY = 'sk-windows';
let rt: LocalRuntime;
let client: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { [KEY]: 'tenant-windows' },
    env: {
      COMPLETION_WINDOWS: '24h,30s',
      CHUNK_MAX_LINES: '20',
      SIM_ENGINE_LATENCY_MS: '500',
      ENGINE_CONCURRENCY: '2',
      CHUNKS_IN_PARALLEL: '1',
      SLA_ASSUMED_REQUESTS_PER_SECOND: '20',
    },
    slaEverySeconds: 1,
  });
  client = sdk(rt.url, KEY);
});
afterAll(() => rt?.close());

interface Extension {
  priority: string;
  admission_warning?: string;
  sla: { deadline_at: number; state: string | null };
  pools: { spot: number; dedicated: number };
  chunks: { total: number; done: number; escalated: number };
}
const ext = (b: unknown) => (b as { openbatch: Extension }).openbatch;

const create = async (lines: number, prefix: string, window: string) =>
  client.batches.create({
    input_file_id: (await upload(client, chatLines(lines, { prefix }))).id,
    endpoint: '/v1/chat/completions',
    completion_window: window as '24h',
  });

describe('completion windows and admission', () => {
  it('refuses a window outside the allowlist, naming the allowed ones', async () => {
    const err = await create(5, 'w', '4h').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('completion_window');
    expect((err as Error).message).toContain("'30s'");
  });

  it('refuses at create a file too large for the window even on every dedicated task (an estimate from its size)', async () => {
    // 8,000 lines of about 160 bytes: some 630 requests at 2,048 bytes each, 31 s of work in 30 s.
    const err = await create(8000, 'big', '30s').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.code).toBe('completion_window_infeasible');
    expect(e.param).toBe('completion_window');
    expect(e.message).toContain("Estimated from the input file's size");
    expect(e.message).toMatch(/\d+ requests need about \d+s on all 1 dedicated task\(s\) for model any /);
  });

  it('fails at the end of validation a batch whose exact count cannot finish in the window', async () => {
    // 700 lines pass the estimate (about 55 requests) but need 35 s of the 30.
    const created = await create(700, 'mid', '30s');
    expect(created.status).toBe('validating');
    const batch = await waitUntilEnded(client, created.id, 20_000);
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data?.[0]).toMatchObject({
      code: 'completion_window_infeasible',
      param: 'completion_window',
    });
    expect(batch.errors?.data?.[0]?.message).toContain('700 requests');
  });
});

describe('escalation and expiry on a 30 s window', () => {
  it('starts on Spot, escalates to dedicated when Spot falls behind, and expires at the window with batch_expired lines', async () => {
    const N = 300;
    const created = await create(N, 'esc', '30s');
    expect(created.completion_window).toBe('30s');
    expect((created.expires_at ?? 0) - created.created_at).toBe(30);
    expect(ext(created)).toMatchObject({ priority: 'normal', sla: { state: 'on_track' } });
    expect(ext(created).admission_warning).toBeUndefined();

    // Escalated by the SLA monitor: at risk, its undone chunks copied to the dedicated queue.
    const escalated = await waitFor(
      async () => {
        const b = await client.batches.retrieve(created.id);
        return ext(b).sla.state === 'at_risk' ? b : undefined;
      },
      30_000,
      100,
    );
    expect(escalated.status).toBe('in_progress');
    const escalatedAfterS = Date.now() / 1000 - created.created_at;
    expect(escalatedAfterS).toBeGreaterThan(5); // it started on Spot: 0.5 of pressure at first
    expect(escalatedAfterS).toBeLessThan(30);
    expect(ext(escalated).chunks.escalated).toBeGreaterThan(0);

    const batch = await waitUntilEnded(client, created.id, 40_000);
    expect(batch.status).toBe('expired');
    // At the window: the SLA monitor stops it at expires_at (SLA_EXPIRY_LOOKAHEAD_SECONDS), and
    // the finalizer ends it once the files are written.
    expect(batch.finalizing_at ?? 0).toBeGreaterThanOrEqual(batch.expires_at ?? Number.POSITIVE_INFINITY);
    expect((batch.finalizing_at ?? 0) - (batch.expires_at ?? 0)).toBeLessThanOrEqual(2);
    expect((batch.expired_at ?? 0) - (batch.expires_at ?? 0)).toBeLessThanOrEqual(5);
    expect(ext(batch).sla.state).toBe('breached');
    // Both pools ran requests: Spot its first chunks, the dedicated worker the escalated ones.
    expect(ext(batch).pools.spot).toBeGreaterThan(0);
    expect(ext(batch).pools.dedicated).toBeGreaterThan(0);

    const output = await resultLines(client, batch.output_file_id);
    const errors = await resultLines(client, batch.error_file_id);
    const counts = countIds([...output, ...errors]);
    expect(counts.size).toBe(N);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((l) => l.error?.code === 'batch_expired' && l.response === null)).toBe(true);
    expect(batch.request_counts).toEqual({ total: N, completed: output.length, failed: errors.length });
  });
});
