// One Lambda function, hosted in its own thread with exactly its own environment (as Lambda
// gives each function its own), its AWS calls checked against its declaration. Plain
// JavaScript so it can register the TypeScript loader before importing the handler.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { startFunctionHost } = await import('./function-host-main.ts');
await startFunctionHost(parentPort, workerData);
