import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { deadLetterSuffix, type PoolName, physicalName, queues } from '../../core/app/declaration.js';
import { platformEnvironment, workerEnvironment } from '../../localstack/runtime/environments.js';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { openLog, WorkerFleet } from '../../localstack/runtime/worker-processes.js';
import { type MainProcess, startMain } from '../support/processes.js';
import { resultLines, sdk, upload } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';
import { isTerminal, judge, type QueueDepth, type RunRecord, sortedKeys } from './check.js';
import {
  BASE_ENV,
  type RunContext,
  type Scenario,
  sleep,
  VISIBILITY_TIMEOUT_SECONDS,
  type WorkerView,
} from './scenarios.js';

/**
 * The I/O half of the chaos suite: a shared local runtime whose worker fleet follows each
 * scenario's environment, `npm start`'s program in a process of its own for the restart
 * scenario, and one run of a scenario from upload to verdict.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHARED_PREFIX = 'openbatch-chaos';
/** main.ts names its resources so. */
const MAIN_PREFIX = 'openbatch-local';
const TENANT = 'tenant-chaos';
const KEY = 'sk-chaos';
const RESTART_KEY = 'sk-chaos-restart';
/** About how long a worker process takes to load and poll its queue on a small machine. */
const WORKER_BOOT_MS = 3_000;

export interface Sizes {
  size: 'short' | 'full';
  /** Worker processes per pool. */
  workers: Record<PoolName, number>;
  /** How long a batch may take to end, and the queues to drain after. */
  terminalTimeoutMs: number;
  settleTimeoutMs: number;
}

// ---------------------------------------------------------------------------------------------
// Queues

export interface NamedQueue {
  name: string;
  url: string;
}

/** Every declared queue and its dead-letter queue, by physical name. */
export async function declaredQueues(sqs: SQSClient, prefix: string): Promise<NamedQueue[]> {
  const names = Object.keys(queues).flatMap((q) => {
    const name = physicalName(prefix, q);
    return [name, `${name}${deadLetterSuffix}`];
  });
  return Promise.all(
    names.map(async (name) => ({
      name,
      url: (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '',
    })),
  );
}

export async function queueDepths(sqs: SQSClient, list: readonly NamedQueue[]): Promise<QueueDepth[]> {
  return Promise.all(
    list.map(async (q) => {
      const attrs =
        (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: q.url,
              AttributeNames: [
                'ApproximateNumberOfMessages',
                'ApproximateNumberOfMessagesNotVisible',
                'ApproximateNumberOfMessagesDelayed',
              ],
            }),
          )
        ).Attributes ?? {};
      return {
        queue: q.name,
        visible: Number(attrs.ApproximateNumberOfMessages ?? 0),
        notVisible: Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(attrs.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    }),
  );
}

/** The messages of a dead-letter queue, with how often each was received, left visible. */
export async function peek(sqs: SQSClient, url: string): Promise<string[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
    }),
  );
  return (out.Messages ?? []).map((m) => {
    const sent = new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString();
    return `${m.Body} (sent ${sent}, received ${m.Attributes?.ApproximateReceiveCount ?? '?'} times)`;
  });
}

/**
 * Waits until no queue holds a message, or `timeoutMs`: a duplicate chunk message is deleted
 * by the worker that receives it ('duplicate'), and one held by a killed worker comes back
 * after the visibility timeout first. Returns the last reading.
 */
export async function settle(
  sqs: SQSClient,
  list: readonly NamedQueue[],
  timeoutMs: number,
): Promise<QueueDepth[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const depths = await queueDepths(sqs, list);
    if (depths.every((d) => d.visible + d.notVisible + d.delayed === 0) || Date.now() > deadline)
      return depths;
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------
// The shared runtime

const AWS_KEYS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_EMF_ENVIRONMENT',
];

/**
 * One local runtime for every `shared` scenario. It starts with no workers of its own: the
 * harness runs the worker fleet, with the environment the runtime would give it
 * (environments.ts) plus the scenario's settings, and replaces the fleet when the next
 * scenario's settings differ (a few seconds, against half a minute for a runtime).
 */
export class SharedRuntime {
  private current: { key: string; fleet: WorkerFleet } | undefined;
  private changing: Promise<unknown> = Promise.resolve();
  private queueList: NamedQueue[] | undefined;
  /** When each worker process was first seen (polled: the fleet replaces them on its own). */
  private readonly seen = new Map<number, number>();
  private readonly tracker = setInterval(() => this.track(), 100);

  private constructor(
    readonly rt: LocalRuntime,
    readonly client: OpenAI,
    private readonly counts: Record<PoolName, number>,
  ) {
    this.tracker.unref();
  }

  private track(): void {
    for (const w of this.current?.fleet.workers ?? [])
      if (w.child.pid && !this.seen.has(w.child.pid)) this.seen.set(w.child.pid, Date.now());
  }

  /** The current fleet's worker processes, with how long each has been up. */
  workers(): WorkerView[] {
    this.track();
    return (this.current?.fleet.workers ?? []).map((w) => ({
      pool: w.pool,
      child: w.child,
      upMs: Date.now() - (this.seen.get(w.child.pid ?? 0) ?? Date.now()),
    }));
  }

  static async start(workers: Record<PoolName, number>): Promise<SharedRuntime> {
    const rt = await startLocalRuntime({
      port: 0,
      prefix: SHARED_PREFIX,
      apiKeys: { [KEY]: TENANT },
      workers: { spot: 0, dedicated: 0 },
      workerVisibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      // As often as a test can wait for it (every minute on AWS): it re-drives stalled
      // validations, re-requests lost finalizations, and its escalations are duplicates too.
      slaEverySeconds: 5,
      env: BASE_ENV,
    });
    return new SharedRuntime(rt, sdk(rt.url, KEY), workers);
  }

  async queues(): Promise<NamedQueue[]> {
    this.queueList ??= await declaredQueues(this.rt.aws.sqs, SHARED_PREFIX);
    return this.queueList;
  }

  /**
   * The fleet for `env`: the running one when its settings are the same, else a new one (one
   * change at a time, for runs side by side). `boot`: wait until the new workers poll.
   */
  fleetFor(env: Record<string, string>, boot: boolean): Promise<WorkerFleet> {
    const next = this.changing.then(() => this.change(env, boot));
    this.changing = next.catch(() => undefined);
    return next;
  }

  private async change(env: Record<string, string>, boot: boolean): Promise<WorkerFleet> {
    const settings = { ...BASE_ENV, ...env };
    const key = JSON.stringify(settings);
    if (this.current?.key === key) return this.current.fleet;
    await this.current?.fleet.stop();
    const aws = Object.fromEntries(AWS_KEYS.flatMap((k) => (this.rt.env[k] ? [[k, this.rt.env[k]]] : [])));
    const fleet = new WorkerFleet(
      root,
      {
        ...workerEnvironment({
          platform: platformEnvironment(aws),
          settings,
          resources: this.rt.env,
          prefix: SHARED_PREFIX,
        }),
        RECEIVE_WAIT_SECONDS: '1',
        VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY_TIMEOUT_SECONDS),
      },
      openLog(resolve(root, '.openbatch/workers.log')),
    );
    for (const pool of ['spot', 'dedicated'] as const) {
      const url = this.rt.env[queues[pool].env];
      if (!url) throw new Error(`no ${pool} queue in the runtime's environment`);
      fleet.start(pool, this.counts[pool], url);
    }
    this.current = { key, fleet };
    // Booted before the batch, so that a run's time to terminal is the batch's alone.
    if (boot) await sleep(WORKER_BOOT_MS);
    return fleet;
  }

  async close(): Promise<void> {
    clearInterval(this.tracker);
    await this.current?.fleet.stop();
    await this.rt.close();
  }
}

// ---------------------------------------------------------------------------------------------
// `npm start` in a process of its own, for the restart scenario

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((res) => child.once('exit', () => res()));

/** The restart scenario's runtime: main.ts on a data directory of its own, killed and started again. */
export class RestartTarget {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'openbatch-chaos-'));
  main: MainProcess | undefined;

  constructor(
    private readonly env: Record<string, string>,
    private readonly workers: Record<PoolName, number>,
  ) {}

  async start(fresh: boolean): Promise<MainProcess> {
    // Starting may wait for the previous runtime's emulators to save their data (up to 130 s).
    this.main = await startMain(
      {
        ...BASE_ENV,
        ...this.env,
        OPENBATCH_METRICS: 'off',
        OPENBATCH_DATA_DIR: this.dataDir,
        OPENBATCH_API_KEY: RESTART_KEY,
        SPOT_WORKERS: String(this.workers.spot),
        DEDICATED_WORKERS: String(this.workers.dedicated),
      },
      fresh ? ['--fresh'] : [],
      { startTimeoutMs: 240_000 },
    );
    return this.main;
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    if (!this.main) return;
    const child = this.main.child;
    child.kill(signal);
    await exited(child);
  }

  client(): OpenAI {
    if (!this.main) throw new Error('not started');
    return sdk(this.main.url, RESTART_KEY);
  }

  sqs(): SQSClient {
    return new SQSClient({
      region: 'us-east-1',
      endpoint: this.main?.endpoint ?? '',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  }

  async close(): Promise<void> {
    await this.kill('SIGTERM');
    this.main = undefined;
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// One run

/** Polls until the batch ends or `timeoutMs`; the last batch seen either way. */
export async function untilTerminal(client: OpenAI, id: string, timeoutMs: number): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (isTerminal(batch.status) || Date.now() > deadline) return batch;
    await sleep(250);
  }
}

interface RunState {
  counts: Record<string, number>;
  problems: string[];
}

function newState(): RunState & Pick<RunContext, 'count' | 'problem'> {
  const state: RunState = { counts: {}, problems: [] };
  return {
    ...state,
    count: (fault, n = 1) => {
      state.counts[fault] = (state.counts[fault] ?? 0) + n;
    },
    problem: (text) => {
      state.problems.push(text);
    },
  };
}

async function verdict(opts: {
  scenario: Scenario;
  run: number;
  client: OpenAI;
  sqs: SQSClient;
  queues: NamedQueue[];
  inputIds: string[];
  batchId: string;
  ended: Batch;
  /** When the batch was created (Date.now()). */
  started: number;
  secondsToTerminal: number | null;
  timings?: Record<string, number>;
  state: RunState;
  sizes: Sizes;
  after?: (batch: Batch) => Promise<void>;
}): Promise<RunRecord> {
  const { client, ended, state } = opts;
  if (!isTerminal(ended.status))
    state.problems.push(`not terminal within ${opts.sizes.terminalTimeoutMs / 1000} s: ${ended.status}`);
  const settled = await settle(opts.sqs, opts.queues, opts.sizes.settleTimeoutMs);
  const timings = { ...opts.timings, 'queues settled': (Date.now() - opts.started) / 1000 };
  // Evidence: what a dead-letter queue holds (the other queues are left as they are).
  for (const q of opts.queues.filter((q) => q.name.endsWith(deadLetterSuffix))) {
    if (!settled.some((d) => d.queue === q.name && d.visible > 0)) continue;
    for (const m of await peek(opts.sqs, q.url)) state.problems.push(`dead-lettered in ${q.name}: ${m}`);
  }
  // Read again after the settle: a late duplicate must not have changed a finished batch.
  const batch = await client.batches.retrieve(opts.batchId);
  if (isTerminal(ended.status)) {
    const before = JSON.stringify([
      ended.status,
      ended.request_counts,
      ended.output_file_id,
      ended.error_file_id,
    ]);
    const after = JSON.stringify([
      batch.status,
      batch.request_counts,
      batch.output_file_id,
      batch.error_file_id,
    ]);
    if (before !== after)
      state.problems.push(`the ended batch changed while queues settled: ${before} → ${after}`);
  }
  const [output, errors] = await Promise.all([
    resultLines(client, batch.output_file_id),
    resultLines(client, batch.error_file_id),
  ]);
  await opts.after?.(batch);
  const v = judge({
    inputIds: opts.inputIds,
    status: batch.status,
    requestCounts: batch.request_counts,
    outputIds: output.map((l) => l.custom_id),
    errorIds: errors.map((l) => l.custom_id),
    queues: settled,
  });
  return {
    scenario: opts.scenario.name,
    run: opts.run,
    requests: opts.inputIds.length,
    batchId: opts.batchId,
    status: batch.status,
    secondsToTerminal: opts.secondsToTerminal,
    timings,
    lost: v.lost.length,
    duplicated: v.duplicated.length,
    unexpected: v.unexpected.length,
    countsMatch: v.countsMatch,
    leftovers: v.leftovers.reduce((n, q) => n + q.visible + q.notVisible + q.delayed, 0),
    faults: sortedKeys(state.counts),
    problems: [...v.problems, ...state.problems],
  };
}

const inputOf = (scenario: Scenario, run: number, n: number) => {
  const prefix = `${scenario.name}-${run}`;
  return { text: chatLines(n, { prefix }), ids: Array.from({ length: n }, (_, i) => `${prefix}-${i}`) };
};

/** One run of a `shared` scenario: upload, create, inject the fault until the batch ends, check. */
export async function runShared(
  shared: SharedRuntime,
  scenario: Scenario,
  run: number,
  sizes: Sizes,
): Promise<RunRecord> {
  const requests = scenario.requests[sizes.size];
  // The short version does not wait for a new fleet to boot: its times are not figures.
  await shared.fleetFor(scenario.env, sizes.size === 'full');
  const { client, rt } = shared;
  const input = inputOf(scenario, run, requests);
  const file = await upload(client, input.text);
  const state = newState();
  const ctx: RunContext = {
    client,
    tenant: TENANT,
    rt,
    workers: () => shared.workers(),
    inputFileId: file.id,
    run,
    size: sizes.size,
    counts: state.counts,
    count: state.count,
    problem: state.problem,
  };
  const started = Date.now();
  const batchId = scenario.create
    ? await scenario.create(ctx)
    : (
        await client.batches.create({
          input_file_id: file.id,
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
        })
      ).id;
  const stop = new AbortController();
  const injecting = scenario
    .inject?.(ctx, batchId, stop.signal)
    .catch((err: Error) => state.problem(`fault injector failed: ${err.message}`));
  let ended: Batch;
  try {
    ended = await untilTerminal(client, batchId, sizes.terminalTimeoutMs);
  } finally {
    stop.abort();
    await injecting;
  }
  return verdict({
    scenario,
    run,
    client,
    sqs: rt.aws.sqs,
    queues: await shared.queues(),
    inputIds: input.ids,
    batchId,
    ended,
    started,
    secondsToTerminal: isTerminal(ended.status) ? (Date.now() - started) / 1000 : null,
    state,
    sizes,
    ...(scenario.after ? { after: (b: Batch) => scenario.after?.(ctx, b) ?? Promise.resolve() } : {}),
  });
}

/**
 * One run of the restart scenario: a batch on main.ts, the runtime killed once the batch has
 * finished a chunk, main.ts started again on the same data directory, the batch finished there.
 * The runtime started last stays up for the next run.
 */
export async function runRestart(
  target: RestartTarget,
  scenario: Scenario,
  run: number,
  sizes: Sizes,
): Promise<RunRecord> {
  const requests = scenario.requests[sizes.size];
  if (!target.main) await target.start(true);
  const first = target.client();
  const input = inputOf(scenario, run, requests);
  const file = await upload(first, input.text);
  const state = newState();
  const started = Date.now();
  const { id: batchId } = await first.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  // Mid-batch: some chunks done, not all.
  for (;;) {
    const b = await first.batches.retrieve(batchId);
    const done =
      (b as unknown as { openbatch?: { chunks?: { done?: number } } }).openbatch?.chunks?.done ?? 0;
    if (isTerminal(b.status)) {
      state.problem(`the batch ended (${b.status}) before the runtime was killed: make it bigger`);
      break;
    }
    if (b.status === 'in_progress' && done >= 1) break;
    if (Date.now() - started > sizes.terminalTimeoutMs) break;
    await sleep(100);
  }
  const signals = scenario.restartSignals ?? ['SIGKILL'];
  const signal = signals[run % signals.length] ?? 'SIGKILL';
  const at = () => Math.round((Date.now() - started) / 100) / 10;
  const timings: Record<string, number> = { killed: at() };
  await target.kill(signal);
  state.count(`runtime ${signal}`);
  timings.exited = at();
  await target.start(false);
  timings.restarted = at();
  state.count('runtime restarts');
  const client = target.client();
  const sqs = target.sqs();
  const ended = await untilTerminal(client, batchId, sizes.terminalTimeoutMs);
  return verdict({
    scenario,
    run,
    client,
    sqs,
    queues: await declaredQueues(sqs, MAIN_PREFIX),
    inputIds: input.ids,
    batchId,
    ended,
    started,
    secondsToTerminal: isTerminal(ended.status) ? (Date.now() - started) / 1000 : null,
    timings,
    state,
    sizes,
  });
}
