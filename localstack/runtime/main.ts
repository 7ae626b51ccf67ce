import { resolve } from 'node:path';
import { limitsSchema, slaSchema, workerSchema } from '../../core/config.js';
import { log } from '../../core/observability/log.js';
import { DEFAULT_API_KEY, startLocalRuntime } from './runtime.js';

// The deployment's settings (limits, SLA, engine) a developer sets in the shell, as the CDK
// config sets them per environment. Functions and workers get these and their own resources only.
const settingNames = [limitsSchema, slaSchema, workerSchema]
  .flatMap((s) => Object.keys(s.shape))
  .filter((k) => k !== 'POOL' && k !== 'QUEUE_URL');
const settings = Object.fromEntries(
  settingNames.flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k] as string]] : [])),
);

// Files, batches, keys and queued work outlast a restart (persistence.ts); --fresh starts empty.
const dataDir = resolve(process.env.OPENBATCH_DATA_DIR ?? '.openbatch/data');
const fresh = process.argv.slice(2).includes('--fresh') || process.env.OPENBATCH_FRESH === '1';
const externalAws = process.env.AWS_ENDPOINT_URL;

const runtime = await startLocalRuntime({
  env: settings,
  dataDir,
  fresh,
  port: Number(process.env.PORT ?? 8080),
  ...(externalAws ? { awsEndpoint: externalAws } : {}),
  workers: {
    spot: Number(process.env.SPOT_WORKERS ?? 1),
    dedicated: Number(process.env.DEDICATED_WORKERS ?? 1),
  },
});

console.log(`
openbatch is running locally.
  API:      ${runtime.url}/v1        (health: ${runtime.url}/healthz)
  API key:  ${runtime.apiKey === DEFAULT_API_KEY ? `${DEFAULT_API_KEY} (dev default; set OPENBATCH_API_KEY to change)` : '(from OPENBATCH_API_KEY)'}
  AWS:      ${runtime.env.AWS_ENDPOINT_URL}${runtime.env.AWS_ENDPOINT_URL_DYNAMODB ? `, DynamoDB: ${runtime.env.AWS_ENDPOINT_URL_DYNAMODB} (DynamoDB Local)` : ''}
  Engine:   ${process.env.ENGINE_URL ?? 'built-in SIMULATED engine (set ENGINE_URL for a real OpenAI-compatible server)'}
  Data:     ${externalAws ? 'kept by the endpoint above' : `${dataDir}${fresh ? ' (emptied: --fresh)' : ''}; npm start -- --fresh starts empty`}
  Worker logs: .openbatch/workers.log
`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    log.info('shutting down', { signal });
    await runtime.close();
    process.exit(0);
  });
}
