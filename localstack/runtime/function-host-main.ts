import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { guardThisProcess, type Permission } from './access-guard.js';
import { lambdaContext } from './lambda-context.js';

export interface HostData {
  name: string;
  /** Absolute path of the handler module. */
  entry: string;
  timeoutSeconds: number;
  permissions: Permission[];
}

export interface Invocation {
  id: number;
  event: unknown;
}

export type InvocationResult =
  | { id: number; ok: true; result: unknown; calls: Record<string, number> }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; stack?: string };
      calls: Record<string, number>;
    };

/** Runs inside the function's thread: guard the SDK, load the handler, serve invocations. */
export async function startFunctionHost(port: MessagePort | null, data: HostData): Promise<void> {
  if (!port) throw new Error('function host started outside a worker thread');
  guardThisProcess(data.name, data.permissions);
  const mod = (await import(pathToFileURL(data.entry).href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  port.on('message', async (msg: Invocation) => {
    let reply: InvocationResult;
    try {
      const result = await mod.handler(msg.event, lambdaContext(data.name, data.timeoutSeconds));
      reply = { id: msg.id, ok: true, result, calls: awsCalls.drain() };
    } catch (err) {
      const e = err as Error;
      reply = {
        id: msg.id,
        ok: false,
        error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
        calls: awsCalls.drain(),
      };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true });
}
