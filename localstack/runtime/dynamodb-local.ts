import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Emulator, freePort, serveChild } from './emulator.js';

/**
 * DynamoDB Local, AWS's own DynamoDB emulator (Java), for what moto cannot promise: concurrent
 * conditional writes that really exclude each other. Fetched by scripts/ensure-deps.sh.
 */
export const dynamoDbLocalInstalled = (root = process.cwd()): boolean =>
  existsSync(resolve(root, '.openbatch/dynamodb-local/DynamoDBLocal.jar'));

export async function startDynamoDbLocal(root = process.cwd()): Promise<Emulator> {
  const dir = resolve(root, '.openbatch/dynamodb-local');
  if (!existsSync(resolve(dir, 'DynamoDBLocal.jar'))) {
    throw new Error('DynamoDB Local is not installed: run `bash scripts/ensure-deps.sh` (needs Java 17)');
  }
  const port = await freePort();
  const child = spawn(
    'java',
    [
      '-Xmx512m',
      `-Djava.library.path=${resolve(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      resolve(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return serveChild(child, `http://localhost:${port}`, 'DynamoDB Local', 60_000);
}
