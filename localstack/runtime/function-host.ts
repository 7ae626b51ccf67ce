/**
 * One Lambda function in a process of its own, as Lambda runs each function in its own sandbox:
 * started by the local runtime (functions.ts) with exactly the function's environment and a heap
 * bounded by its declared memory, its AWS calls checked against its declaration. Serves
 * invocations sent over IPC, one handler call per message, concurrently like warm containers.
 */
import { pathToFileURL } from 'node:url';
import { awsCalls } from '../../core/adapters/aws-clients.js';
import { guardThisProcess, type Permission } from './access-guard.js';
import { lambdaContext } from './lambda-context.js';
import { forwardMetricsOverIpc } from './local-metrics.js';

export interface HostData {
  name: string;
  /** Absolute path of the handler module. */
  entry: string;
  timeoutSeconds: number;
  permissions: Permission[];
}

export type HostMessage = { init: HostData } | { id: number; event: unknown };

export type InvocationResult =
  | { id: number; ok: true; result: unknown; calls: Record<string, number> }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; stack?: string };
      calls: Record<string, number>;
    };

let handler: ((event: unknown, context: unknown) => Promise<unknown>) | undefined;
let data: HostData | undefined;

async function serve(msg: HostMessage): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  if ('init' in msg) {
    data = msg.init;
    guardThisProcess(data.name, data.permissions);
    handler = ((await import(pathToFileURL(data.entry).href)) as { handler: typeof handler }).handler;
    send({ ready: true });
    return;
  }
  if (!handler || !data) throw new Error('invocation before init');
  try {
    const result = await handler(msg.event, lambdaContext(data.name, data.timeoutSeconds));
    send({ id: msg.id, ok: true, result, calls: awsCalls.drain() } satisfies InvocationResult);
  } catch (err) {
    const e = err as Error;
    send({
      id: msg.id,
      ok: false,
      error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
      calls: awsCalls.drain(),
    } satisfies InvocationResult);
  }
}

// The function's metrics also go to the runtime's GET /metrics.
forwardMetricsOverIpc();
process.on('message', (msg: HostMessage) => void serve(msg));
// Ctrl-C reaches the whole process group; the runtime stops its functions itself, last.
process.on('SIGINT', () => {});
// The runtime going away (even killed) closes the IPC channel: the function goes with it.
process.on('disconnect', () => process.exit(0));
