import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { log } from '../../core/observability/log.js';
import { type Emulator, freePort, serveChild, spawnWatched } from './emulator.js';

/**
 * DynamoDB Local, AWS's own DynamoDB emulator (Java), for what moto cannot promise: concurrent
 * conditional writes that really exclude each other. Fetched by scripts/ensure-deps.sh.
 *
 * It runs through LoopbackDynamoDbLocal.java, which binds it to 127.0.0.1 (DynamoDB Local itself
 * has no option for that and listens on every interface). That class is compiled once, next to
 * the jar; a Java without a compiler makes the runtime fall back to moto's DynamoDB (loopback too).
 */
const dirOf = (root: string) => resolve(root, '.openbatch/dynamodb-local');

export const dynamoDbLocalInstalled = (root = process.cwd()): boolean => {
  if (!existsSync(resolve(dirOf(root), 'DynamoDBLocal.jar'))) return false;
  try {
    loopbackLauncher(root);
    return true;
  } catch (err) {
    log.warn('DynamoDB Local is installed but cannot be bound to 127.0.0.1; using moto for DynamoDB', {
      reason: (err as Error).message,
    });
    return false;
  }
};

/** The directory holding the compiled launcher (compiling it on first use), keyed by its source. */
function loopbackLauncher(root: string): string {
  const source = resolve(root, 'localstack/runtime/LoopbackDynamoDbLocal.java');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const dir = resolve(dirOf(root), `loopback-${hash}`);
  if (existsSync(resolve(dir, 'LoopbackDynamoDbLocal.class'))) return dir;
  // Compiled into a directory of its own and renamed, so runtimes starting at once do not collide.
  // javac through `java -m`: Debian's JRE packages carry the jdk.compiler module but no javac.
  const tmp = mkdtempSync(`${dir}.tmp-`);
  const javacArgs = ['-d', tmp, '-cp', resolve(dirOf(root), 'DynamoDBLocal.jar'), source];
  const failures: string[] = [];
  let compiled = false;
  for (const [command, args] of [
    ['java', ['-m', 'jdk.compiler/com.sun.tools.javac.Main', ...javacArgs]],
    ['javac', javacArgs],
  ] as const) {
    try {
      execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      compiled = true;
      break;
    } catch (err) {
      const e = err as Error & { stderr?: Buffer; code?: string };
      failures.push(
        `${command}: ${e.code === 'ENOENT' ? 'not found' : (e.stderr?.toString().trim() ?? e.message)}`,
      );
    }
  }
  if (!compiled) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `cannot compile LoopbackDynamoDbLocal.java (needs a Java 17 with jdk.compiler): ${failures.join('; ')}`,
    );
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another runtime got there first
  }
  return dir;
}

export interface DynamoDbLocalOptions {
  /** Where the tables are kept (a directory); without it, in memory only. */
  dbPath?: string;
}

export async function startDynamoDbLocal(
  root = process.cwd(),
  opts: DynamoDbLocalOptions = {},
): Promise<Emulator> {
  const dir = dirOf(root);
  if (!existsSync(resolve(dir, 'DynamoDBLocal.jar'))) {
    throw new Error('DynamoDB Local is not installed: run `bash scripts/ensure-deps.sh` (needs Java 17)');
  }
  const launcher = loopbackLauncher(root);
  if (opts.dbPath) mkdirSync(opts.dbPath, { recursive: true });
  const port = await freePort();
  const child = spawnWatched(
    root,
    // Each write is its own SQLite transaction: nothing to save on the way out.
    10,
    'java',
    [
      '-Xmx512m',
      `-Djava.library.path=${resolve(dir, 'DynamoDBLocal_lib')}`,
      '-cp',
      // The jar's manifest puts DynamoDBLocal_lib/*.jar on the class path.
      [launcher, resolve(dir, 'DynamoDBLocal.jar')].join(delimiter),
      'LoopbackDynamoDbLocal',
      ...(opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory']),
      // One database whatever the credentials and region of the caller (otherwise one per pair).
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    dir,
  );
  return serveChild(child, `http://localhost:${port}`, 'DynamoDB Local', 60_000);
}
