import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { type FunctionDeclaration, type FunctionName, functions } from '../../core/app/declaration.js';
import { log } from '../../core/observability/log.js';
import { permissionsOf } from './access-guard.js';
import type { HostData, Invocation, InvocationResult } from './function-host-main.js';

// biome-ignore lint/suspicious/noExplicitAny: handlers of every trigger type share this loader
export type AnyHandler = (event: any, context?: any) => Promise<any>;

export interface LoadedFunction {
  name: FunctionName;
  decl: FunctionDeclaration;
  /** Invokes the function in its own thread; the promise settles as the invocation does. */
  handler: AnyHandler;
}

export interface FunctionSet {
  functions: Map<FunctionName, LoadedFunction>;
  close(): Promise<void>;
}

/**
 * Starts every declared function in a thread of its own, as Lambda runs each function in its
 * own sandbox: the thread's environment is exactly `envOf(name)` (what the CDK app gives that
 * function), and its AWS calls are refused unless its declaration's `uses` grants them. A
 * function that reads a table it never declared fails here, not first on AWS.
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
): Promise<{ fn: LoadedFunction; close(): Promise<void> }> {
  const data: HostData = {
    name,
    entry: resolve(root, decl.entry),
    timeoutSeconds: decl.timeoutSeconds,
    permissions: permissionsOf(decl.uses, env),
  };
  const thread = new Worker(resolve(root, 'localstack/runtime/function-host.mjs'), {
    workerData: data,
    env,
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let failure: Error | undefined;
  const ready = new Promise<void>((res, rej) => {
    thread.once('error', rej);
    thread.on('message', (msg: { ready: true } | InvocationResult) => {
      if ('ready' in msg) return res();
      awsCalls.add(msg.calls);
      const waiter = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok) waiter?.resolve(msg.result);
      else waiter?.reject(Object.assign(new Error(msg.error.message), msg.error));
    });
  });
  thread.on('error', (err) => {
    failure = err;
    log.error('function thread failed', { fn: name, err });
    for (const w of pending.values()) w.reject(err);
    pending.clear();
  });
  await ready;
  const handler: AnyHandler = (event) => {
    if (failure) return Promise.reject(failure);
    const id = next++;
    return new Promise((res, rej) => {
      pending.set(id, { resolve: res, reject: rej });
      thread.postMessage({ id, event } satisfies Invocation);
    });
  };
  return {
    fn: { name, decl, handler },
    close: async () => {
      await thread.terminate();
    },
  };
}
