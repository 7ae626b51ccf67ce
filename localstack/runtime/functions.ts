import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { type FunctionDeclaration, type FunctionName, functions } from '../../core/app/declaration.js';
import { log } from '../../core/observability/log.js';
import { permissionsOf } from './access-guard.js';
import type { HostData, HostMessage, InvocationResult } from './function-host.js';
import { isMetricsMessage, localMetrics, type MetricsMessage } from './local-metrics.js';

// biome-ignore lint/suspicious/noExplicitAny: handlers of every trigger type share this loader
export type AnyHandler = (event: any, context?: any) => Promise<any>;

export interface LoadedFunction {
  name: FunctionName;
  decl: FunctionDeclaration;
  /** Invokes the function in its own process; the promise settles as the invocation does. */
  handler: AnyHandler;
}

export interface FunctionSet {
  functions: Map<FunctionName, LoadedFunction>;
  /** The process of each function, for measurements. */
  pids(): Record<string, number | undefined>;
  close(): Promise<void>;
}

/**
 * Starts every declared function in a process of its own, as Lambda runs each function in its
 * own sandbox: the process's environment is exactly `envOf(name)` (what the CDK app gives that
 * function), its heap is bounded by the function's declared memory, and its AWS calls are
 * refused unless its declaration's `uses` grants them. A function that reads a table it never
 * declared, or holds a file in memory, fails here, not first on AWS.
 */
export async function startFunctions(
  root: string,
  envOf: (name: FunctionName) => Record<string, string>,
): Promise<FunctionSet> {
  const started = await Promise.all(
    (Object.entries(functions) as [FunctionName, FunctionDeclaration][]).map(([name, decl]) =>
      hostFunction(root, name, decl, envOf(name)),
    ),
  );
  return {
    functions: new Map(started.map((f) => [f.fn.name, f.fn])),
    pids: () => Object.fromEntries(started.map((f) => [f.fn.name, f.pid()])),
    close: async () => {
      await Promise.all(started.map((f) => f.close()));
    },
  };
}

async function hostFunction(
  root: string,
  name: FunctionName,
  decl: FunctionDeclaration,
  env: Record<string, string>,
): Promise<{ fn: LoadedFunction; pid(): number | undefined; close(): Promise<void> }> {
  const data: HostData = {
    name,
    entry: resolve(root, decl.entry),
    timeoutSeconds: decl.timeoutSeconds,
    permissions: permissionsOf(decl.uses, env),
  };
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let closing = false;
  let child: ChildProcess;
  let ready: Promise<void> = Promise.resolve();

  const start = () => {
    child = fork(resolve(root, 'localstack/runtime/function-host.ts'), [], {
      env,
      // Lambda stops a function at its memory size; the heap bound is the nearest Node has.
      execArgv: ['--import', 'tsx', `--max-old-space-size=${decl.memoryMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    ready = new Promise<void>((res, rej) => {
      child.once('error', rej);
      child.on('message', (msg: { ready: true } | InvocationResult | MetricsMessage) => {
        if (isMetricsMessage(msg)) return localMetrics.add(msg.openbatchMetrics);
        if ('ready' in msg) return res();
        awsCalls.add(msg.calls);
        const waiter = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.ok) waiter?.resolve(msg.result);
        else waiter?.reject(Object.assign(new Error(msg.error.message), msg.error));
      });
    });
    child.once('exit', (code, signal) => {
      for (const w of pending.values()) w.reject(new Error(`function ${name} exited (${code ?? signal})`));
      pending.clear();
      if (closing) return;
      // As Lambda replaces a crashed sandbox (out of memory, say): a fresh process for the next call.
      log.error('function process exited; starting a new one', { fn: name, code, signal });
      start();
    });
    child.send({ init: data } satisfies HostMessage);
  };
  start();
  await ready;

  const handler: AnyHandler = async (event) => {
    await ready;
    const id = next++;
    return new Promise((res, rej) => {
      pending.set(id, { resolve: res, reject: rej });
      child.send({ id, event } satisfies HostMessage);
    });
  };
  return {
    fn: { name, decl, handler },
    pid: () => child.pid,
    close: async () => {
      closing = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
