import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { AuthenticationError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../core/adapters/aws-clients.js';
import { buckets } from '../../core/app/declaration.js';
import { bootstrapResources } from '../../localstack/runtime/bootstrap.js';
import { dynamoDbLocalInstalled, startDynamoDbLocal } from '../../localstack/runtime/dynamodb-local.js';
import { startEmulator } from '../../localstack/runtime/emulator.js';
import { openDataDir } from '../../localstack/runtime/persistence.js';
import { type MainProcess, startMain, stopMain } from '../support/processes.js';
import { sdk } from '../support/sdk.js';

/** `npm start -- --fresh` empties the data directory an earlier run left. */
const KEY = 'sk-local-fresh';
const STALE_KEY = 'sk-before-fresh';
const filesBucket = 'openbatch-local-files';
const dataDir = mkdtempSync(join(tmpdir(), 'openbatch-data-'));
let main: MainProcess | undefined;
afterAll(async () => {
  await stopMain(main);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the local runtime’s data directory', () => {
  beforeAll(async () => {
    // What an earlier run left in the data directory: an API key, and an object in a bucket.
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const data = await openDataDir(dataDir);
    const [moto, dynamo] = await Promise.all([
      startEmulator({ stateFile: data.motoStateFile }),
      dynamoDbLocalInstalled() ? startDynamoDbLocal(undefined, { dbPath: data.dynamoDbPath }) : undefined,
    ]);
    const earlier = createAwsClients({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: moto.endpoint,
      ...(dynamo ? { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint } : {}),
    });
    const env = await bootstrapResources(earlier, {
      prefix: 'openbatch-local',
      apiKeys: { [STALE_KEY]: 'local' },
    });
    expect(env[buckets.files.env]).toBe(filesBucket);
    await earlier.s3.send(new PutObjectCommand({ Bucket: filesBucket, Key: 'stale.txt', Body: 'stale' }));
    await Promise.all([moto.stop(), dynamo?.stop()]);
    data.release();

    main = await startMain({ OPENBATCH_DATA_DIR: dataDir, OPENBATCH_API_KEY: KEY }, ['--fresh']);
  });

  it('starts empty with --fresh: no key, no object from before', async () => {
    if (!main) throw new Error('not started');
    await expect(sdk(main.url, STALE_KEY).files.list()).rejects.toBeInstanceOf(AuthenticationError);
    const { endpoint } = main;
    const now = createAwsClients({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint });
    const listed = await now.s3.send(new ListObjectsV2Command({ Bucket: filesBucket }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});
